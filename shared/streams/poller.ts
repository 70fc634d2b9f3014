import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  type Shard,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { firstFailedIndex } from './batch-response.js';
import { batchFailure, type StreamBatchFailure } from './failure.js';
import { closedShards, shardsReadyToRead } from './lineage.js';
import { toLambdaRecord } from './records.js';

/** A function as a DynamoDB event source mapping would invoke it (with ReportBatchItemFailures on). */
// biome-ignore lint/suspicious/noConfusingVoidType: the result type of aws-lambda's DynamoDBStreamHandler
export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  client: DynamoDBStreamsClient;
  streamArn: string;
  handler: StreamHandler;
  /** Where to start in the shards open at start; shards found later are always read from their start. */
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Most records per invocation, 1 to 1000. Default 100. */
  batchSize?: number;
  /** Retries of a failing batch before it goes to `onFailure`; -1 retries until it succeeds. Default 10. */
  maximumRetryAttempts?: number;
  /** The on-failure destination, given each batch the poller gives up on. Default: report it to `onError`. */
  onFailure?: (failure: StreamBatchFailure) => Promise<void>;
  /**
   * The event source mapping's filter: records it refuses are skipped (and checkpointed) without an
   * invocation. Default: every record.
   */
  filter?: (record: DynamoDBRecord) => boolean;
  /**
   * MaximumBatchingWindowInSeconds, in ms: records are gathered up to this long (from the first one)
   * until a batch is full, before the handler is called. Default 0: each read's records at once.
   */
  maxBatchingWindowMs?: number;
  /** Pause before polling a shard again after it returned no records. Default 100 ms. */
  pollIntervalMs?: number;
  /** First retry delay, doubling on each further retry up to 5 s. Default 100 ms. */
  retryBaseDelayMs?: number;
  /** The `awsRegion` of each record. Default: the client's region. */
  awsRegion?: string;
  /**
   * Errors the poller works around: failed stream calls (it retries them), trimmed records (it skips
   * them), failing `onFailure` calls (it retries them). Default `console.error`.
   */
  onError?: (error: unknown) => void;
}

export interface StreamPoller {
  /** Stops polling: waits for the handler call in flight, then retries nothing more. */
  stop(): Promise<void>;
}

const maxRetryDelayMs = 5_000;
/** How often to look for new shards while none finishes (a closed shard's children may be listed late). */
const shardDiscoveryIntervalMs = 5_000;

/**
 * Polls a DynamoDB stream and calls `handler` with batches shaped like the events Lambda's event source
 * mapping delivers, with its semantics: each shard in order, a child shard only after its parent, no
 * batch mixing shards, at-least-once; a failing batch is retried with the same records (or, after
 * `batchItemFailures`, from the first failed one) until it succeeds or the retries run out, when it goes
 * to `onFailure` and the shard moves on. Checkpoints live in memory: a new poller starts over at
 * `startingPosition`.
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const { client, streamArn, handler, startingPosition } = options;
  const batchSize = options.batchSize ?? 100;
  const maximumRetryAttempts = options.maximumRetryAttempts ?? 10;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
  const filter = options.filter ?? (() => true);
  const maxBatchingWindowMs = options.maxBatchingWindowMs ?? 0;
  const onError = options.onError ?? ((error: unknown) => console.error('DynamoDB stream poller:', error));
  const onFailure =
    options.onFailure ??
    (async (failure: StreamBatchFailure) =>
      onError(new Error('Discarded a batch after its last retry', { cause: failure })));
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw new RangeError(`batchSize must be an integer from 1 to 1000, not ${batchSize}`);
  }
  if (!Number.isInteger(maximumRetryAttempts) || maximumRetryAttempts < -1) {
    throw new RangeError(`maximumRetryAttempts must be -1 or a whole number, not ${maximumRetryAttempts}`);
  }

  const stopping = new AbortController();
  /** Waits `ms`, or less if the poller stops meanwhile. */
  const pause = (ms: number) => delay(ms, undefined, { signal: stopping.signal }).catch(() => {});
  const retryDelay = (retry: number) => Math.min(retryBaseDelayMs * 2 ** retry, maxRetryDelayMs);

  async function describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: description } = await client.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      shards.push(...(description?.Shards ?? []));
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    return shards;
  }

  /** Calls the handler until the batch succeeds or is given up on; false if the poller stopped first. */
  async function deliver(shardId: string, batch: DynamoDBRecord[]): Promise<boolean> {
    let records = batch;
    for (let invocations = 1; ; invocations++) {
      let failedIndex: number | undefined;
      let error: unknown;
      try {
        failedIndex = firstFailedIndex(records, await handler({ Records: records }));
      } catch (thrown) {
        failedIndex = 0;
        error = thrown;
      }
      if (failedIndex === undefined) return true;
      records = records.slice(failedIndex);
      if (maximumRetryAttempts !== -1 && invocations > maximumRetryAttempts) {
        const failure = batchFailure({
          streamArn,
          shardId,
          batch: records,
          invocations,
          error,
          now: new Date(),
        });
        return handOver(failure);
      }
      await pause(retryDelay(invocations - 1));
      if (stopping.signal.aborted) return false;
    }
  }

  /** Gives a failed batch to `onFailure`, retrying until it takes it; false if the poller stopped first. */
  async function handOver(failure: StreamBatchFailure): Promise<boolean> {
    for (let attempt = 0; !stopping.signal.aborted; attempt++) {
      try {
        await onFailure(failure);
        return true;
      } catch (error) {
        onError(error);
        await pause(retryDelay(attempt));
      }
    }
    return false;
  }

  /** Reads one shard to its end (when it is closed and every record is handled) or until the poller stops. */
  async function readShard(
    shardId: string,
    start: 'TRIM_HORIZON' | 'LATEST',
    awsRegion: string,
  ): Promise<void> {
    let position: Omit<GetShardIteratorInput, 'StreamArn' | 'ShardId'> = { ShardIteratorType: start };
    let iterator: string | undefined;
    let consecutiveErrors = 0;
    // Records that passed the filter, read but not yet handed over, and since when they wait.
    let pending: DynamoDBRecord[] = [];
    let windowStart = 0;
    /** The sequence number of the last record read (handed over, pending or filtered out). */
    let readThrough: string | undefined;
    while (!stopping.signal.aborted) {
      let page: GetRecordsCommandOutput;
      try {
        iterator ??= (
          await client.send(
            new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...position }),
          )
        ).ShardIterator;
        page = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize - pending.length }),
        );
        consecutiveErrors = 0;
      } catch (error) {
        // An iterator lives 15 minutes: take a new one at the checkpoint (what was pending is read
        // again from there). Any other error keeps the iterator, so a transient failure cannot skip records.
        if (error instanceof ExpiredIteratorException) {
          iterator = undefined;
          pending = [];
          readThrough = undefined;
          continue;
        }
        if (error instanceof TrimmedDataAccessException) {
          iterator = undefined;
          pending = [];
          readThrough = undefined;
          position = { ShardIteratorType: 'TRIM_HORIZON' };
        }
        onError(error);
        await pause(retryDelay(consecutiveErrors++));
        continue;
      }

      const read = (page.Records ?? []).map((record) => toLambdaRecord(record, { streamArn, awsRegion }));
      const passed = read.filter(filter);
      if (pending.length === 0 && passed.length > 0) windowStart = performance.now();
      pending.push(...passed);
      const closed = page.NextShardIterator == null;
      const due =
        pending.length >= batchSize || closed || performance.now() - windowStart >= maxBatchingWindowMs;
      if (pending.length > 0 && due) {
        if (!(await deliver(shardId, pending))) return;
        pending = [];
      }
      // The checkpoint moves past what was read once nothing read is waiting to be handed over.
      readThrough = read.at(-1)?.dynamodb?.SequenceNumber ?? readThrough;
      if (pending.length === 0 && readThrough !== undefined) {
        position = { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: readThrough };
      }
      // No next iterator: the shard is closed and everything in it has been read.
      if (closed) return;
      iterator = page.NextShardIterator;
      if (read.length === 0) await pause(pollIntervalMs);
    }
  }

  async function run(): Promise<void> {
    const awsRegion = options.awsRegion ?? (await client.config.region());
    const finished = new Set<string>();
    const reading = new Map<string, Promise<void>>();
    let shardDone = () => {};
    let firstDiscovery = true;
    let consecutiveErrors = 0;
    while (!stopping.signal.aborted) {
      const someShardDone = new Promise<void>((resolve) => {
        shardDone = resolve;
      });
      let shards: Shard[];
      try {
        shards = await describeShards();
        consecutiveErrors = 0;
      } catch (error) {
        onError(error);
        await pause(retryDelay(consecutiveErrors++));
        continue;
      }
      if (firstDiscovery && startingPosition === 'LATEST') {
        for (const shardId of closedShards(shards)) finished.add(shardId);
      }
      for (const shardId of shardsReadyToRead(shards, finished)) {
        if (reading.has(shardId)) continue;
        const start = firstDiscovery ? startingPosition : 'TRIM_HORIZON';
        const read = readShard(shardId, start, awsRegion)
          .then(() => {
            if (!stopping.signal.aborted) finished.add(shardId);
          }, onError)
          .finally(() => {
            reading.delete(shardId);
            shardDone();
          });
        reading.set(shardId, read);
      }
      firstDiscovery = false;
      // A finished shard's children are ready now; other changes to the shards show up on the next look.
      await Promise.race([someShardDone, pause(shardDiscoveryIntervalMs)]);
    }
    await Promise.all(reading.values());
  }

  const running = run().catch(onError);
  return {
    stop: async () => {
      stopping.abort();
      await running;
    },
  };
}
