import { expect, test } from 'vitest';
import { batchFailure } from '../../shared/streams/failure.js';

test('describes a failed batch like the record of a Lambda on-failure destination', () => {
  const error = new Error('boom');
  const failure = batchFailure({
    streamArn: 'arn:stream',
    shardId: 'shardId-1',
    batch: [
      { dynamodb: { SequenceNumber: '101', ApproximateCreationDateTime: 1573690399 } },
      { dynamodb: { SequenceNumber: '105', ApproximateCreationDateTime: 1573690402 } },
    ],
    invocations: 3,
    error,
    now: new Date('2019-11-14T00:13:49.717Z'),
  });
  expect(failure).toStrictEqual({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
    version: '1.0',
    timestamp: '2019-11-14T00:13:49.717Z',
    DDBStreamBatchInfo: {
      shardId: 'shardId-1',
      startSequenceNumber: '101',
      endSequenceNumber: '105',
      approximateArrivalOfFirstRecord: '2019-11-14T00:13:19Z',
      approximateArrivalOfLastRecord: '2019-11-14T00:13:22Z',
      batchSize: 2,
      streamArn: 'arn:stream',
    },
    error,
  });
});
