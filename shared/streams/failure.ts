import type { DynamoDBRecord } from 'aws-lambda';

/**
 * What the poller hands `onFailure` when it gives up on a batch: the fields of the record Lambda sends
 * to a DynamoDB event source mapping's on-failure destination (which names the records but does not
 * carry them), plus the error of the last attempt.
 */
export interface StreamBatchFailure {
  requestContext: {
    condition: 'RetryAttemptsExhausted';
    /** Invocations with this batch: the first one plus its retries. */
    approximateInvokeCount: number;
  };
  version: '1.0';
  /** When the poller gave up, ISO 8601. */
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    /** ISO 8601 to the second, like `2019-11-14T00:13:19Z`. */
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
  /** What the last invocation threw; undefined when it returned `batchItemFailures` instead. */
  error: unknown;
}

export function batchFailure(options: {
  streamArn: string;
  shardId: string;
  batch: readonly DynamoDBRecord[];
  invocations: number;
  error: unknown;
  now: Date;
}): StreamBatchFailure {
  const { batch } = options;
  const first = batch[0]?.dynamodb;
  const last = batch[batch.length - 1]?.dynamodb;
  return {
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: options.invocations },
    version: '1.0',
    timestamp: options.now.toISOString(),
    DDBStreamBatchInfo: {
      shardId: options.shardId,
      startSequenceNumber: first?.SequenceNumber ?? '',
      endSequenceNumber: last?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: isoSeconds(first?.ApproximateCreationDateTime),
      approximateArrivalOfLastRecord: isoSeconds(last?.ApproximateCreationDateTime),
      batchSize: batch.length,
      streamArn: options.streamArn,
    },
    error: options.error,
  };
}

function isoSeconds(epochSeconds: number | undefined): string {
  return epochSeconds === undefined ? '' : new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
