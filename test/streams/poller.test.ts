import { setTimeout as delay } from 'node:timers/promises';
import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, expect, test } from 'vitest';
import { localCredentials } from '../../shared/local/dynamodb-local.js';
import type { StreamBatchFailure } from '../../shared/streams/failure.js';
import {
  type StreamPoller,
  type StreamPollerOptions,
  startStreamPoller,
} from '../../shared/streams/poller.js';
import { streamArnOf } from '../../shared/streams/stream-arn.js';
import { dynamoEndpoint, freshTable, testClient } from '../support/dynamo.js';

const dynamo = testClient();
const streams = new DynamoDBStreamsClient({
  endpoint: dynamoEndpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
const pollers: StreamPoller[] = [];
let streamErrors: unknown[] = [];

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
  expect(streamErrors).toEqual([]);
  streamErrors = [];
});

afterAll(() => {
  dynamo.destroy();
  streams.destroy();
});

function startPoller(options: Omit<StreamPollerOptions, 'client'>): StreamPoller {
  const poller = startStreamPoller({
    client: streams,
    retryBaseDelayMs: 5,
    onError: (error) => streamErrors.push(error),
    ...options,
  });
  pollers.push(poller);
  return poller;
}

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await delay(10);
  }
}

/** A new table and its stream ARN, with items `item-0` to `item-<count - 1>` (attribute `n`) in it. */
async function tableWithItems(
  count: number,
  extra: (n: number) => Record<string, AttributeValue> = () => ({}),
) {
  const table = await freshTable(dynamo);
  const streamArn = await streamArnOf(dynamo, table);
  for (let n = 0; n < count; n++) await putItem(table, n, extra(n));
  return { table, streamArn };
}

async function putItem(table: string, n: number, extra: Record<string, AttributeValue> = {}): Promise<void> {
  await dynamo.send(
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: `item-${n}` }, sk: { S: 'x' }, n: { N: String(n) }, ...extra },
    }),
  );
}

const sequenceNumbers = (records: readonly DynamoDBRecord[]) =>
  records.map((r) => r.dynamodb?.SequenceNumber);
const itemNumbers = (records: readonly DynamoDBRecord[]) =>
  records.map((r) => Number(r.dynamodb?.NewImage?.n?.N));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test("delivers every record of a burst of writes in order per key, shaped like Lambda's event", async () => {
  const table = await freshTable(dynamo);
  const streamArn = await streamArnOf(dynamo, table);
  const events: DynamoDBStreamEvent[] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 50,
    handler: async (event) => {
      events.push(event);
    },
  });
  const keyCount = 20;
  const opsPerKey = 15;
  const binary = (key: number, op: number): AttributeValue => ({ B: new Uint8Array([key, op, 255]) });
  const startedAt = Math.floor(Date.now() / 1000);

  // Each key's operations in sequence, the keys concurrently: op%5 0 put (INSERT), 1 and 3 update,
  // 2 put over the item (MODIFY), 4 delete (REMOVE); `op` carries the operation's number.
  await Promise.all(
    range(0, keyCount).map(async (key) => {
      const Key = { pk: { S: `key-${key}` }, sk: { S: 'x' } };
      for (let op = 0; op < opsPerKey; op++) {
        const attributes = { op: { N: String(op) }, bin: binary(key, op) };
        if (op % 5 === 4) await dynamo.send(new DeleteItemCommand({ TableName: table, Key }));
        else if (op % 2 === 1) {
          await dynamo.send(
            new UpdateItemCommand({
              TableName: table,
              Key,
              UpdateExpression: 'SET op = :op, bin = :bin',
              ExpressionAttributeValues: { ':op': attributes.op, ':bin': attributes.bin },
            }),
          );
        } else await dynamo.send(new PutItemCommand({ TableName: table, Item: { ...Key, ...attributes } }));
      }
    }),
  );

  const delivered = () => events.flatMap((event) => event.Records);
  await until('every write is delivered', () => delivered().length >= keyCount * opsPerKey);
  const records = delivered();
  expect(records).toHaveLength(keyCount * opsPerKey);
  expect(new Set(records.map((r) => r.eventID)).size).toBe(records.length);

  for (const event of events) {
    expect(Object.keys(event)).toEqual(['Records']);
    expect(event.Records.length).toBeGreaterThan(0);
    expect(event.Records.length).toBeLessThanOrEqual(50);
  }
  const nowSeconds = Math.ceil(Date.now() / 1000);
  for (const record of records) {
    expect(JSON.parse(JSON.stringify(record))).toStrictEqual(record); // plain JSON: no Uint8Array, no Date
    expect(record).toMatchObject({
      eventID: expect.any(String),
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: streamArn,
      dynamodb: {
        Keys: { pk: { S: expect.stringMatching(/^key-/) }, sk: { S: 'x' } },
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    const created = record.dynamodb?.ApproximateCreationDateTime ?? Number.NaN;
    expect(Number.isInteger(created)).toBe(true);
    // DynamoDB Local rounds the creation time down to the minute; AWS to the second.
    expect(created).toBeGreaterThanOrEqual(startedAt - 60);
    expect(created).toBeLessThanOrEqual(nowSeconds);
    const image = record.eventName === 'REMOVE' ? record.dynamodb?.OldImage : record.dynamodb?.NewImage;
    const key = Number(record.dynamodb?.Keys?.pk?.S?.slice('key-'.length));
    const op = Number(image?.op?.N);
    expect(image?.bin?.B).toBe(Buffer.from([key, op, 255]).toString('base64'));
  }

  // Per key, the operations arrive in the order they were made, each once.
  const opsByKey = new Map<string, number[]>();
  for (const record of records) {
    const key = record.dynamodb?.Keys?.pk?.S ?? '';
    const op =
      record.eventName === 'REMOVE'
        ? Number(record.dynamodb?.OldImage?.op?.N) + 1
        : Number(record.dynamodb?.NewImage?.op?.N);
    opsByKey.set(key, [...(opsByKey.get(key) ?? []), op]);
    const expectedName = op % 5 === 4 ? 'REMOVE' : op % 5 === 0 ? 'INSERT' : 'MODIFY';
    expect(record.eventName).toBe(expectedName);
  }
  expect(opsByKey.size).toBe(keyCount);
  for (const ops of opsByKey.values()) expect(ops).toEqual(range(0, opsPerKey));
});

test('redelivers the same batch after the handler throws, losing and reordering nothing', async () => {
  const { table, streamArn } = await tableWithItems(10);
  const invocations: DynamoDBRecord[][] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    handler: async (event) => {
      invocations.push(event.Records);
      if (invocations.length === 1) throw new Error('first invocation fails');
    },
  });
  await until('the failed batch is retried', () => invocations.length >= 2);
  const [failed, retried] = invocations;
  expect(failed).toHaveLength(10);
  expect(sequenceNumbers(retried ?? [])).toEqual(sequenceNumbers(failed ?? []));

  for (let n = 10; n < 20; n++) await putItem(table, n);
  const succeeded = () => invocations.slice(1).flat();
  await until('the later writes are delivered', () => succeeded().length >= 20);
  expect(itemNumbers(succeeded())).toEqual(range(0, 20));
});

test('resumes at the first record a handler reports failed, without redelivering the ones before it', async () => {
  const { streamArn } = await tableWithItems(10);
  const invocations: DynamoDBRecord[][] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    handler: async (event) => {
      invocations.push(event.Records);
      if (invocations.length > 1) return;
      const third = event.Records[2]?.dynamodb?.SequenceNumber ?? '';
      return { batchItemFailures: [{ itemIdentifier: third }] };
    },
  });
  await until('the rest of the batch is retried', () => invocations.length >= 2);
  const [first, retried] = invocations;
  expect(itemNumbers(first ?? [])).toEqual(range(0, 10));
  expect(sequenceNumbers(retried ?? [])).toEqual(sequenceNumbers(first?.slice(2) ?? []));
  expect(itemNumbers(invocations.slice(1).flat())).toEqual(range(2, 10));
});

test('redelivers the whole batch when a reported failure names no record of it', async () => {
  const { streamArn } = await tableWithItems(5);
  const invocations: DynamoDBRecord[][] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    handler: async (event) => {
      invocations.push(event.Records);
      if (invocations.length === 1)
        return { batchItemFailures: [{ itemIdentifier: '999999999999999999999' }] };
    },
  });
  await until('the batch is retried', () => invocations.length >= 2);
  expect(sequenceNumbers(invocations[1] ?? [])).toEqual(sequenceNumbers(invocations[0] ?? []));
});

test('hands a batch to onFailure once its retries run out and goes on with later records', async () => {
  const { table, streamArn } = await tableWithItems(
    5,
    (n): Record<string, AttributeValue> => (n === 2 ? { poison: { BOOL: true } } : {}),
  );
  const invocations: DynamoDBRecord[][] = [];
  const failures: StreamBatchFailure[] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 5,
    maximumRetryAttempts: 2,
    handler: async (event) => {
      invocations.push(event.Records);
      if (event.Records.some((record) => record.dynamodb?.NewImage?.poison)) throw new Error('poison');
    },
    onFailure: async (failure) => {
      failures.push(failure);
    },
  });
  await until('the batch is given up on', () => failures.length > 0);
  const poisoned = invocations[0] ?? [];
  expect(itemNumbers(poisoned)).toEqual(range(0, 5));
  expect(invocations.map(sequenceNumbers)).toEqual(Array(3).fill(sequenceNumbers(poisoned)));

  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const [failure] = failures;
  expect(failure).toMatchObject({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
    DDBStreamBatchInfo: {
      shardId: StreamDescription?.Shards?.[0]?.ShardId,
      startSequenceNumber: poisoned[0]?.dynamodb?.SequenceNumber,
      endSequenceNumber: poisoned[4]?.dynamodb?.SequenceNumber,
      approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      batchSize: 5,
      streamArn,
    },
    error: new Error('poison'),
  });

  for (let n = 5; n < 8; n++) await putItem(table, n);
  await until('the later writes are delivered', () => invocations.flat().length >= 15 + 3);
  expect(itemNumbers(invocations.slice(3).flat())).toEqual(range(5, 8));
  expect(failures).toHaveLength(1);
});

test('starting at LATEST delivers only the changes made after the start', async () => {
  const { table, streamArn } = await tableWithItems(3);
  const delivered: DynamoDBRecord[] = [];
  startPoller({
    streamArn,
    startingPosition: 'LATEST',
    handler: async (event) => {
      delivered.push(...event.Records);
    },
  });
  // The poller is positioned some time after it starts: write until a write gets through.
  let n = 100;
  await until('a write after the start is delivered', async () => {
    await putItem(table, n++);
    return delivered.length > 0;
  });
  expect(itemNumbers(delivered).every((m) => m >= 100)).toBe(true);
});

test('stop waits for the handler call in flight and retries nothing after it', async () => {
  const { streamArn } = await tableWithItems(1);
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let invocations = 0;
  let finished = false;
  const poller = startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    retryBaseDelayMs: 60_000,
    handler: async () => {
      invocations++;
      await released;
      finished = true;
      throw new Error('fails, to be retried after a minute');
    },
  });
  await until('the handler is called', () => invocations > 0);
  const stopping = Date.now();
  const stopped = poller.stop();
  setTimeout(release, 20);
  await stopped;
  expect(finished).toBe(true);
  expect(invocations).toBe(1);
  expect(Date.now() - stopping).toBeLessThan(4_000); // well short of the 5 s retry backoff
});

test('filters records out without an invocation, and checkpoints past them', async () => {
  const { table, streamArn } = await tableWithItems(6);
  const invocations: DynamoDBRecord[][] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    filter: (record) => Number(record.dynamodb?.NewImage?.n?.N) % 2 === 0,
    handler: async (event) => {
      invocations.push(event.Records);
    },
  });
  await until('the even items are delivered', () => invocations.flat().length >= 3);
  // Only odd items follow: nothing more is delivered, and the even one after them is, alone.
  for (const n of [7, 9, 11]) await putItem(table, n);
  await putItem(table, 12);
  await until('item 12 is delivered', () => itemNumbers(invocations.flat()).includes(12));
  expect(itemNumbers(invocations.flat())).toEqual([0, 2, 4, 12]);
  expect(invocations.every((records) => records.length > 0)).toBe(true);
});

test('gathers records for the batching window into one invocation', async () => {
  const table = await freshTable(dynamo);
  const streamArn = await streamArnOf(dynamo, table);
  const invocations: { at: number; records: DynamoDBRecord[] }[] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    maxBatchingWindowMs: 1500,
    handler: async (event) => {
      invocations.push({ at: performance.now(), records: event.Records });
    },
  });
  // Five writes spread over ~500 ms, well within the window: one batch, after the window.
  const started = performance.now();
  for (let n = 0; n < 5; n++) {
    await putItem(table, n);
    await delay(100);
  }
  await until('the batch is delivered', () => invocations.length > 0);
  await delay(300);
  expect(invocations).toHaveLength(1);
  expect(itemNumbers(invocations[0]?.records ?? [])).toEqual(range(0, 5));
  expect((invocations[0]?.at ?? 0) - started).toBeGreaterThanOrEqual(1400);
});

test('a full batch is handed over before its window ends', async () => {
  const { streamArn } = await tableWithItems(7);
  const invocations: DynamoDBRecord[][] = [];
  startPoller({
    streamArn,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 3,
    maxBatchingWindowMs: 60_000,
    handler: async (event) => {
      invocations.push(event.Records);
    },
  });
  await until('two full batches are delivered', () => invocations.length >= 2);
  expect(invocations.map(itemNumbers)).toEqual([
    [0, 1, 2],
    [3, 4, 5],
  ]);
});
