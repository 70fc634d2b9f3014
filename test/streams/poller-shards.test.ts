import { setTimeout as delay } from 'node:timers/promises';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { afterEach, expect, test } from 'vitest';
import {
  type StreamPoller,
  type StreamPollerOptions,
  startStreamPoller,
} from '../../shared/streams/poller.js';

// What DynamoDB Local cannot show (it has one shard that never closes, and iterators that outlive a
// test), shown against a scripted stream.

interface ScriptedShard {
  id: string;
  parent?: string;
  closed: boolean;
  sequenceNumbers: string[];
}

/** A stream of fixed shards, listed one per DescribeStream page, whose GetRecords can be made to fail. */
class ScriptedStream {
  readonly iteratorRequests: GetShardIteratorInput[] = [];
  /** Errors the next GetRecords calls throw, first one first. */
  readonly getRecordsErrors: Error[] = [];

  constructor(readonly shards: ScriptedShard[]) {}

  asClient(): DynamoDBStreamsClient {
    return this as unknown as DynamoDBStreamsClient;
  }

  async send(command: object): Promise<unknown> {
    await new Promise(setImmediate); // answers on a later turn of the event loop, as over the network
    if (command instanceof DescribeStreamCommand) {
      const start = command.input.ExclusiveStartShardId;
      const index = start === undefined ? 0 : this.shards.findIndex((shard) => shard.id === start) + 1;
      const shard = this.shards[index];
      const more = index + 1 < this.shards.length;
      return {
        StreamDescription: {
          Shards: shard
            ? [
                {
                  ShardId: shard.id,
                  ParentShardId: shard.parent,
                  SequenceNumberRange: {
                    StartingSequenceNumber: shard.sequenceNumbers[0],
                    EndingSequenceNumber: shard.closed ? shard.sequenceNumbers.at(-1) : undefined,
                  },
                },
              ]
            : [],
          LastEvaluatedShardId: more ? shard?.id : undefined,
        },
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      const { ShardId, ShardIteratorType, SequenceNumber } = command.input;
      this.iteratorRequests.push(command.input);
      const shard = this.shard(ShardId);
      const position =
        ShardIteratorType === 'TRIM_HORIZON'
          ? 0
          : ShardIteratorType === 'LATEST'
            ? shard.sequenceNumbers.length
            : shard.sequenceNumbers.indexOf(SequenceNumber ?? '') +
              (ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' ? 1 : 0);
      return { ShardIterator: `${ShardId}|${position}` };
    }
    if (command instanceof GetRecordsCommand) {
      const error = this.getRecordsErrors.shift();
      if (error) throw error;
      const [shardId, position] = (command.input.ShardIterator ?? '').split('|');
      const shard = this.shard(shardId);
      const from = Number(position);
      const to = Math.min(from + (command.input.Limit ?? 1000), shard.sequenceNumbers.length);
      const records: _Record[] = shard.sequenceNumbers.slice(from, to).map((sequenceNumber) => ({
        eventName: 'INSERT',
        dynamodb: { SequenceNumber: sequenceNumber },
      }));
      const ended = shard.closed && to === shard.sequenceNumbers.length;
      return { Records: records, NextShardIterator: ended ? undefined : `${shardId}|${to}` };
    }
    throw new Error(`Unexpected command ${command.constructor.name}`);
  }

  private shard(id: string | undefined): ScriptedShard {
    const shard = this.shards.find((candidate) => candidate.id === id);
    if (!shard) throw new Error(`No shard ${id}`);
    return shard;
  }
}

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

/** Starts a poller on the scripted stream; returns the batches it delivers, as sequence numbers. */
function poll(stream: ScriptedStream, options: Partial<StreamPollerOptions> = {}): string[][] {
  const batches: string[][] = [];
  pollers.push(
    startStreamPoller({
      client: stream.asClient(),
      streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1',
      awsRegion: 'us-east-1',
      startingPosition: 'TRIM_HORIZON',
      pollIntervalMs: 5,
      retryBaseDelayMs: 5,
      handler: async (event) => {
        batches.push(event.Records.map((record) => record.dynamodb?.SequenceNumber ?? ''));
      },
      ...options,
    }),
  );
  return batches;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await delay(5);
  }
}

test('reads a closed parent shard to its end before its children, and the children from their start', async () => {
  const stream = new ScriptedStream([
    { id: 'left', parent: 'root', closed: false, sequenceNumbers: ['21', '22'] },
    { id: 'root', closed: true, sequenceNumbers: ['11', '12', '13'] },
    { id: 'right', parent: 'root', closed: false, sequenceNumbers: ['31'] },
  ]);
  const batches = poll(stream, { batchSize: 2 });
  await until('every shard is read', () => batches.flat().length === 6);
  expect(batches.slice(0, 2)).toEqual([['11', '12'], ['13']]);
  expect(batches.slice(2)).toEqual(expect.arrayContaining([['21', '22'], ['31']]));
  expect(stream.iteratorRequests.map((request) => [request.ShardId, request.ShardIteratorType])).toEqual([
    ['root', 'TRIM_HORIZON'],
    ['left', 'TRIM_HORIZON'],
    ['right', 'TRIM_HORIZON'],
  ]);
});

test('starting at LATEST skips closed shards, reads open ones from their end and later ones from their start', async () => {
  const root: ScriptedShard = { id: 'root', parent: 'old', closed: false, sequenceNumbers: ['11'] };
  const stream = new ScriptedStream([{ id: 'old', closed: true, sequenceNumbers: ['1'] }, root]);
  const batches = poll(stream, { startingPosition: 'LATEST' });
  await until('the open shard is read', () => stream.iteratorRequests.length > 0);
  root.sequenceNumbers.push('12');
  root.closed = true;
  stream.shards.push({ id: 'child', parent: 'root', closed: false, sequenceNumbers: ['21'] });
  await until("the child's record is delivered", () => batches.length >= 2);
  expect(batches).toEqual([['12'], ['21']]);
  expect(stream.iteratorRequests.map((request) => [request.ShardId, request.ShardIteratorType])).toEqual([
    ['root', 'LATEST'],
    ['child', 'TRIM_HORIZON'],
  ]);
});

test('takes a new iterator after the checkpoint when the old one expires', async () => {
  const stream = new ScriptedStream([{ id: 'only', closed: false, sequenceNumbers: ['1', '2', '3', '4'] }]);
  const errors: unknown[] = [];
  const batches = poll(stream, {
    batchSize: 2,
    onError: (error) => errors.push(error),
    handler: async (event) => {
      batches.push(event.Records.map((record) => record.dynamodb?.SequenceNumber ?? ''));
      stream.getRecordsErrors.push(new ExpiredIteratorException({ message: 'expired', $metadata: {} }));
    },
  });
  // The last batch's handler expires the iterator too: the poller then takes a third one.
  await until(
    'every record is delivered and the last iterator replaced',
    () => batches.flat().length >= 4 && stream.iteratorRequests.length >= 3,
  );
  expect(batches).toEqual([
    ['1', '2'],
    ['3', '4'],
  ]);
  expect(stream.iteratorRequests.slice(0, 3)).toEqual([
    expect.objectContaining({ ShardIteratorType: 'TRIM_HORIZON' }),
    expect.objectContaining({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '2' }),
    expect.objectContaining({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '4' }),
  ]);
  expect(errors).toEqual([]);
});

test('reports trimmed records and goes on from the oldest record left', async () => {
  const stream = new ScriptedStream([{ id: 'only', closed: false, sequenceNumbers: ['5', '6'] }]);
  const trimmed = new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} });
  stream.getRecordsErrors.push(trimmed);
  const errors: unknown[] = [];
  const batches = poll(stream, { startingPosition: 'LATEST', onError: (error) => errors.push(error) });
  await until('the records left are delivered', () => batches.length > 0);
  expect(batches).toEqual([['5', '6']]);
  expect(errors).toEqual([trimmed]);
  expect(stream.iteratorRequests.map((request) => request.ShardIteratorType)).toEqual([
    'LATEST',
    'TRIM_HORIZON',
  ]);
});
