import { setTimeout as delay } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AuditSink } from '../../functions/apiserver/audit.js';
import {
  type ControlFunction,
  scheduleMinutes,
  triggerResources,
} from '../../functions/runtime/controller.js';
import { controllerContext } from '../../functions/runtime/in-process.js';
import { sqsRetryQueue } from '../../functions/runtime/retry-queue.js';
import { ControllerRuntime } from '../../functions/runtime/runtime.js';
import { sizing } from '../../functions/sizing.js';
import { invocation } from '../metering/lambda.js';
import type { Meter } from '../metering/meter.js';
import { meterSqs } from '../metering/sqs.js';
import { objectPartition } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { startStreamPoller } from '../streams/poller.js';
import { streamArnOf } from '../streams/stream-arn.js';
import { localCredentials } from './dynamodb-local.js';
import { localSqsClient } from './sqs.js';

export interface ControlLoopsOptions {
  store: Store;
  dynamo: DynamoDBClient;
  /** Where the table's stream is read (DynamoDB Local serves streams on the same endpoint). */
  dynamoEndpoint: string;
  tableName: string;
  /** The SQS endpoint the retry and dead-letter queues are made on (`startLocalSqs`). */
  sqsEndpoint: string;
  functions: readonly ControlFunction[];
  logError?: (error: unknown) => void;
  /** Where the audit lines of the controllers' writes go. */
  audit?: AuditSink;
  /** Failures in a row before a key goes to the dead-letter queue (the runtime's default if absent). */
  maxAttempts?: number;
  /**
   * The stream mapping's batching window (the stack's is 1 s). Default 0: each read's records at once,
   * which reacts fastest; the stack's window gives the invocations the deployed functions would have.
   */
  streamBatchingWindowMs?: number;
  /** Resyncs on whole-minute schedules, as the stack's EventBridge rules run them (`scheduleMinutes`). */
  minuteSchedules?: boolean;
  /** Counts each function's invocations, billed duration and SQS requests as Lambda would bill them. */
  meter?: Meter;
}

export interface ControlLoops {
  stop(): Promise<void>;
}

/** Receives on a retry queue at most this long, so stopping never waits for a full long poll. */
const receiveWaitSeconds = 1;

/**
 * Hosts the control-plane functions in this process as Lambda would run them: each reads the table
 * stream (from its start, so nothing written before it came up is missed) and its own SQS retry
 * queue with a dead-letter queue (on fauxqs, through the same SQS client code as on AWS), and runs
 * its controllers' periodic work on timers in place of EventBridge schedules.
 */
export async function startControlLoops(options: ControlLoopsOptions): Promise<ControlLoops> {
  const logError = options.logError ?? ((error: unknown) => console.error(error));
  const region = 'us-east-1';
  // The functions' own calls (retries, dead letters) and Lambda's event source's (receive, delete).
  const sqs = localSqsClient(options.sqsEndpoint);
  const eventSourceSqs = localSqsClient(options.sqsEndpoint);
  if (options.meter) {
    meterSqs(sqs, options.meter);
    meterSqs(eventSourceSqs, options.meter, { prefix: 'eventSource.', eventSource: true });
  }
  const streams = new DynamoDBStreamsClient({
    endpoint: options.dynamoEndpoint,
    region,
    credentials: localCredentials,
  });
  const streamArn = await streamArnOf(options.dynamo, options.tableName);
  const stopped = new AbortController();
  const stoppers: (() => Promise<void>)[] = [];

  for (const fn of options.functions) {
    const { queueUrl, deadLetterUrl } = await createRetryQueue(sqs, fn.name);
    const runtime = new ControllerRuntime({
      controllers: fn.controllers,
      context: controllerContext(options.store, fn.component, {
        logError,
        ...(options.audit ? { audit: options.audit } : {}),
      }),
      retryQueue: sqsRetryQueue(sqs, queueUrl, deadLetterUrl),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      logError: (error, item) =>
        logError(new Error(`${fn.name}: ${item?.controller} ${item?.key}`, { cause: error })),
    });
    const invoke = <T>(work: () => Promise<T>) =>
      options.meter
        ? invocation(options.meter, { name: fn.name, memoryMiB: sizing.control.memoryMiB }, work)
        : work();
    // The stack's stream filter: only live objects of the resources the controllers watch.
    const partitions = new Set(triggerResources(fn.controllers).map(objectPartition));
    const poller = startStreamPoller({
      client: streams,
      streamArn,
      handler: (event) => invoke(() => runtime.handleStream(event)),
      filter: (record) => partitions.has(record.dynamodb?.Keys?.pk?.S ?? ''),
      startingPosition: 'TRIM_HORIZON',
      maximumRetryAttempts: -1,
      ...(options.streamBatchingWindowMs ? { maxBatchingWindowMs: options.streamBatchingWindowMs } : {}),
      // An idle shard is polled 10 times a second (Lambda's event source mappings poll 4 times); at
      // 20 ms, three functions' polls kept half a CPU of DynamoDB Local busy in an idle cluster.
      pollIntervalMs: 100,
      onError: logError,
    });
    const consumer = consumeQueue(
      eventSourceSqs,
      queueUrl,
      (event) => invoke(() => runtime.handleQueue(event)),
      stopped.signal,
      logError,
    );
    // One schedule per interval, as the stack's rules: each tick is one invocation resyncing them all.
    const byInterval = new Map<number, string[]>();
    for (const { name, resync } of fn.controllers) {
      if (!resync) continue;
      const intervalMs = options.minuteSchedules
        ? scheduleMinutes(resync.intervalMs) * 60_000
        : resync.intervalMs;
      byInterval.set(intervalMs, [...(byInterval.get(intervalMs) ?? []), name]);
    }
    const timers = [...byInterval].map(([intervalMs, names]) =>
      every(
        intervalMs,
        () => {
          options.meter?.add('events', `${fn.name}.resync`, { invocations: 1 });
          return invoke(() => runtime.resync(names));
        },
        logError,
      ),
    );
    stoppers.push(async () => {
      for (const timer of timers) await timer.stop();
      await poller.stop();
      await consumer;
    });
  }

  return {
    stop: async () => {
      stopped.abort();
      await Promise.all(stoppers.map((stop) => stop()));
      sqs.destroy();
      eventSourceSqs.destroy();
      streams.destroy();
    },
  };
}

/**
 * `<name>-retry` and its dead-letter queue `<name>-dlq`, as the stack makes them: the runtime sends a
 * key it gives up on to the DLQ itself; the redrive policy catches messages that fail three receives.
 */
async function createRetryQueue(
  sqs: SQSClient,
  name: string,
): Promise<{ queueUrl: string; deadLetterUrl: string }> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-retry`,
      Attributes: {
        VisibilityTimeout: '60',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
          maxReceiveCount: 3,
        }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl as string, deadLetterUrl: dlq.QueueUrl as string };
}

/** Lambda's SQS event source: receive, hand the batch over, delete what the handler did not report failed. */
async function consumeQueue(
  sqs: SQSClient,
  queueUrl: string,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  signal: AbortSignal,
  logError: (error: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const { Messages: messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: receiveWaitSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      if (messages.length === 0) continue;
      const records = messages.map(
        (m) =>
          ({
            messageId: m.MessageId,
            receiptHandle: m.ReceiptHandle,
            body: m.Body ?? '',
            attributes: m.Attributes ?? {},
            messageAttributes: {},
            md5OfBody: m.MD5OfBody ?? '',
            eventSource: 'aws:sqs',
            eventSourceARN: queueUrl,
            awsRegion: 'us-east-1',
          }) as SQSRecord,
      );
      const { batchItemFailures } = await handler({ Records: records });
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId as string));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
          }),
        );
      }
    } catch (error) {
      if (signal.aborted) return;
      logError(error);
      await delay(1000);
    }
  }
}

/** Runs `work` every `intervalMs`, never two at once; `stop` waits for the one in flight. */
function every(
  intervalMs: number,
  work: () => Promise<void>,
  logError: (error: unknown) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = work()
      .catch(logError)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
