import { setTimeout as sleep } from 'node:timers/promises';
import { alreadyExists, conflict, notFound, timeout, tooManyRequests } from '../api/errors.js';
import type { KubernetesObject } from '../api/types.js';
import { encodeBody } from './body.js';
import { type Item, type TransactItem, transactWrite } from './dynamo.js';
import { chunkSortKey, historySortKey, type ObjectKey, objectPartition, objectSortKey } from './keys.js';
import { EntryType, historyKey, type RevisionLog } from './log.js';

/** One change to one object, as the store's verbs describe it to the commit path. */
export interface Change {
  type: typeof EntryType.Added | typeof EntryType.Modified | typeof EntryType.Deleted;
  key: ObjectKey;
  /** The new state; for a deletion, the last state. */
  object: KubernetesObject;
  /** The stored revision this change replaces (absent for creates) and how many chunks it has, if known. */
  replaces?: { revision: number; chunks: number };
}

const maxConflictRetries = 8;
const maxVoidedAttempts = 5;

function stamp(object: KubernetesObject, revision: number): KubernetesObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
}

/** The transaction: the object's items first (its main item at index 0), then the history entry's. */
function transactItems(
  tableName: string,
  change: Change,
  revision: number,
  body: Uint8Array[],
): { items: TransactItem[]; historyIndex: number } {
  const pk = objectPartition(change.key.resource);
  const sk = objectSortKey(change.key);
  const oldChunks = change.replaces?.chunks ?? 1;
  const newChunks = change.type === EntryType.Deleted ? 0 : body.length;
  const chunkCount = (n: number) => (n > 1 ? { chunks: n } : {});
  const guard = change.replaces
    ? {
        ConditionExpression: `revision = :expected AND ${oldChunks > 1 ? 'chunks = :chunks' : 'attribute_not_exists(chunks)'}`,
        ExpressionAttributeValues: {
          ':expected': change.replaces.revision,
          ...(oldChunks > 1 ? { ':chunks': oldChunks } : {}),
        },
      }
    : { ConditionExpression: 'attribute_not_exists(pk)' };
  const main: TransactItem =
    change.type === EntryType.Deleted
      ? {
          Delete: {
            TableName: tableName,
            Key: { pk, sk },
            ...guard,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        }
      : {
          Put: {
            TableName: tableName,
            Item: { pk, sk, revision, body: body[0], ...chunkCount(body.length) },
            ...guard,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        };
  const items: TransactItem[] = [main];
  for (let i = 1; i < newChunks; i++) {
    items.push({
      Put: { TableName: tableName, Item: { pk, sk: chunkSortKey(sk, i), revision, body: body[i] } },
    });
  }
  for (let i = Math.max(1, newChunks); i < oldChunks; i++) {
    items.push({ Delete: { TableName: tableName, Key: { pk, sk: chunkSortKey(sk, i) } } });
  }
  const historyIndex = items.length;
  const entry: Item = {
    ...historyKey(revision),
    revision,
    change: change.type,
    objectPk: pk,
    objectSk: sk,
    prev: change.replaces?.revision ?? 0,
    body: body[0],
    ...chunkCount(body.length),
  };
  items.push({ Put: { TableName: tableName, Item: entry, ConditionExpression: 'attribute_not_exists(pk)' } });
  for (let i = 1; i < body.length; i++) {
    const chunk = { pk: entry.pk, sk: chunkSortKey(historySortKey, i), revision, body: body[i] };
    items.push({ Put: { TableName: tableName, Item: chunk } });
  }
  return { items, historyIndex };
}

export type CommitOutcome =
  | { committed: true; object: KubernetesObject }
  | { committed: false; voided: true };

/**
 * Commits a change at a revision this writer took: the object and its history entry in one
 * transaction. `voided` when a reader voided the revision first (the writer was too slow): a late
 * commit can never land at a voided revision. When the object's condition fails the writer voids its
 * own revision, so readers need not wait for the hole, and throws NotFound, AlreadyExists or Conflict.
 */
export async function commitAt(log: RevisionLog, change: Change, revision: number): Promise<CommitOutcome> {
  const { resource, name } = change.key;
  let replaces = change.replaces;
  try {
    if (replaces && replaces.revision >= revision) throw conflict(resource, name); // not yet handed out when read
    const stored = stamp(change.object, revision);
    const body = encodeBody(stored);
    for (let attempt = 0; ; attempt++) {
      const { items, historyIndex } = transactItems(log.table.name, { ...change, replaces }, revision, body);
      const outcome = await transactWrite(log.table, items);
      if (outcome.committed) return { committed: true, object: stored };
      if (outcome.reasons[historyIndex]?.code === 'ConditionalCheckFailed')
        return { committed: false, voided: true };
      const objectReason = outcome.reasons[0];
      if (objectReason?.code === 'ConditionalCheckFailed') {
        const old = objectReason.item;
        if (!replaces) throw alreadyExists(resource, name);
        if (!old) throw notFound(resource, name);
        if (Number(old.revision) !== replaces.revision) throw conflict(resource, name);
        replaces = { revision: replaces.revision, chunks: Number(old.chunks ?? 1) }; // a stale chunk count
        continue;
      }
      const contended = outcome.reasons.some((reason) => reason.code === 'TransactionConflict');
      if (contended && attempt < maxConflictRetries) {
        await sleep(Math.random() * 10 * 2 ** attempt);
        continue;
      }
      if (contended)
        throw tooManyRequests(`${resource} "${name}" is being changed by too many writers at once`);
      throw new Error(`commit cancelled: ${outcome.reasons.map((reason) => reason.code).join(', ')}`);
    }
  } catch (error) {
    // Nothing was written at this revision: void it now rather than leave readers a hole to wait out.
    // (An error from the transaction itself may hide a commit; then the void simply fails.)
    await log.voidOwn(revision).catch(() => undefined);
    throw error;
  }
}

/**
 * Commits a change at a fresh revision, taking a new one whenever a reader voided the last (this
 * writer was slower than the hole deadline); gives up with 504 if that keeps happening.
 */
export async function commit(log: RevisionLog, change: Change): Promise<KubernetesObject> {
  for (let attempt = 0; attempt < maxVoidedAttempts; attempt++) {
    const outcome = await commitAt(log, change, await log.allocate());
    if (outcome.committed) return outcome.object;
  }
  throw timeout(`${change.key.resource} "${change.key.name}" could not be committed in time, please retry`);
}
