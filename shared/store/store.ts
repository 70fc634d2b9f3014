import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiError, badRequest, conflict, notFound, StatusReason } from '../api/errors.js';
import type { KubernetesObject } from '../api/types.js';
import { meteredAs, storeOperation } from '../metering/dynamodb.js';
import { decodeBody } from './body.js';
import { commit } from './commit.js';
import { getItem, type StoreTable, storeTable, update } from './dynamo.js';
import { checkKey, counterKey, fitsSortKey, type KeyPrefix, type ObjectKey } from './keys.js';
import { type ListOptions, type ListResult, listSnapshot } from './list.js';
import { EntryType, RevisionLog } from './log.js';
import { getObject } from './objects.js';
import { type StoreEvent, type WatchOptions, watchLog } from './watch.js';

export interface StoreOptions {
  /** How long a taken revision may stay uncommitted before readers void it (default 1 s). */
  holeDeadlineMs?: number;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

/**
 * Kubernetes' storage interface over DynamoDB: per-object compare-and-swap, one global sequence of
 * integer revisions, complete ordered watch, snapshot lists, 410 below the compaction mark.
 */
export class Store {
  private readonly log: RevisionLog;

  constructor(table: StoreTable, options: StoreOptions = {}) {
    this.log = new RevisionLog(table, options.holeDeadlineMs ?? 1000);
  }

  static of(client: DynamoDBClient, tableName: string, options?: StoreOptions): Store {
    return new Store(storeTable(client, tableName), options);
  }

  /** Stores a new object; 409 AlreadyExists if the key is taken. Returns it with its resourceVersion. */
  create(key: ObjectKey, object: KubernetesObject): Promise<KubernetesObject> {
    return storeOperation('create', async () => {
      checkObjectKey(key, object);
      return commit(this.log, { type: EntryType.Added, key, object });
    });
  }

  get(key: ObjectKey): Promise<KubernetesObject> {
    return storeOperation('get', async () => {
      checkKey(key);
      if (!fitsSortKey(key)) throw notFound(key.resource, key.name);
      const stored = await getObject(this.log.table, key);
      if (!stored) throw notFound(key.resource, key.name);
      return decodeBody(stored.body);
    });
  }

  /** Compare-and-swap: replaces the object only if it is still at `expectedRevision`; else 409 Conflict. */
  update(key: ObjectKey, object: KubernetesObject, expectedRevision: number): Promise<KubernetesObject> {
    return storeOperation('update', async () => {
      checkObjectKey(key, object);
      return commit(this.log, {
        type: EntryType.Modified,
        key,
        object,
        replaces: { revision: expectedRevision, chunks: 1 },
      });
    });
  }

  /**
   * Deletes the object if it matches the preconditions (409 Conflict if not) and returns its last
   * state, whose resourceVersion is the deletion's revision (as the DELETED watch event carries it).
   */
  delete(key: ObjectKey, preconditions: DeletePreconditions = {}): Promise<KubernetesObject> {
    return storeOperation('delete', async () => {
      checkKey(key);
      if (!fitsSortKey(key)) throw notFound(key.resource, key.name);
      for (;;) {
        const stored = await getObject(this.log.table, key);
        if (!stored) throw notFound(key.resource, key.name);
        const object = decodeBody(stored.body);
        checkPreconditions(key, object, preconditions);
        try {
          return await commit(this.log, {
            type: EntryType.Deleted,
            key,
            object,
            replaces: { revision: stored.revision, chunks: stored.body.length },
          });
        } catch (error) {
          // Changed between our read and the delete: check the preconditions against the new state.
          if (!(error instanceof ApiError && error.reason === StatusReason.Conflict)) throw error;
        }
      }
    });
  }

  list(prefix: KeyPrefix, options: ListOptions = {}): Promise<ListResult> {
    return storeOperation('list', async () => {
      checkKey(prefix);
      if (!fitsSortKey(prefix)) return { items: [], revision: await this.currentRevision() };
      return listSnapshot(this.log, prefix, options);
    });
  }

  /** Every change under `prefix` after `fromRevision`, in order, each once; 410 if compacted. */
  watch(prefix: KeyPrefix, fromRevision: number, options?: WatchOptions): AsyncGenerator<StoreEvent> {
    checkKey(prefix);
    return meteredAs('watch', watchLog(this.log, prefix, fromRevision, options));
  }

  /** The newest revision, after making sure no revision at or below it can still change. */
  currentRevision(): Promise<number> {
    return storeOperation('currentRevision', async () => {
      const marks = await this.log.marks();
      await this.log.settle(marks.revision, marks);
      return marks.revision;
    });
  }

  /** Forgets history below `revision`: reads and watches from older revisions get 410 Expired. */
  compact(revision: number): Promise<void> {
    return storeOperation('compact', () => this.log.compact(revision));
  }

  /** Compacts to the revision recorded `intervalMs` or more ago, and records the newest (`RevisionLog`). */
  compactPeriodically(now: Date, intervalMs: number): Promise<number | undefined> {
    return storeOperation('compact', () => this.log.compactPeriodically(now.getTime(), intervalMs));
  }

  /**
   * Counts changes to something processes cache (`counter` reads it): a writer counts after its
   * change committed, so a reader that sees the new count and then reads sees the change. One read
   * tells a cache whether to read again, where a snapshot list would wait for every write in flight.
   */
  count(name: string): Promise<void> {
    return storeOperation('count', async () => {
      await update(this.log.table, {
        Key: counterKey(name),
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
      });
    });
  }

  /** How many changes `count` has counted under `name` (0 before the first). */
  counter(name: string): Promise<number> {
    return storeOperation('counter', async () => {
      return Number((await getItem(this.log.table, counterKey(name)))?.n ?? 0);
    });
  }

  /** The compaction mark and the newest revision (for the compactor and for tests). */
  async marks(): Promise<{ revision: number; compacted: number }> {
    const { revision, compacted } = await this.log.marks();
    return { revision, compacted };
  }
}

/** A delete's preconditions against the object as stored: 409 Conflict, worded as upstream, when one fails. */
export function checkPreconditions(
  key: ObjectKey,
  object: KubernetesObject,
  preconditions: DeletePreconditions,
): void {
  const { uid, resourceVersion } = object.metadata;
  if (preconditions.uid !== undefined && preconditions.uid !== uid) {
    throw conflict(
      key.resource,
      key.name,
      `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${uid ?? ''}`,
    );
  }
  if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== resourceVersion) {
    throw conflict(
      key.resource,
      key.name,
      `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in meta: ${resourceVersion ?? ''}`,
    );
  }
}

function checkObjectKey(key: ObjectKey, object: KubernetesObject): void {
  checkKey(key);
  if (object.metadata?.name !== key.name || (object.metadata.namespace ?? undefined) !== key.namespace) {
    throw badRequest(
      `the object's metadata does not match ${key.resource} ${key.namespace ?? ''}/${key.name}`,
    );
  }
}
