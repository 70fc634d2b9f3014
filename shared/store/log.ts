import { setTimeout as sleep } from 'node:timers/promises';
import { expired } from '../api/errors.js';
import type { KubernetesObject } from '../api/types.js';
import { decodeBody } from './body.js';
import {
  batchDelete,
  batchGet,
  getItem,
  type Item,
  type Key,
  putIfAbsent,
  query,
  type StoreTable,
  transactWrite,
  update,
  updateIf,
} from './dynamo.js';
import { chunkPrefix, historyPartition, historySortKey, type KeyPrefix, prefixContains } from './keys.js';

/**
 * The revisioned log: one global sequence of integer revisions, one history entry per revision.
 *
 * A writer takes the next revision from an atomic counter, then commits the object and the history
 * entry for that revision in one transaction. A revision that was taken but never committed is a hole;
 * whoever finds one older than the hole deadline fills it with a VOID entry by a conditional put, and
 * whichever conditional write lands first decides. `settled` records a revision below which no hole is
 * left, `compacted` the oldest revision that may still be asked for, `collected` how far superseded
 * history has been deleted.
 */

export const EntryType = { Added: 'ADDED', Modified: 'MODIFIED', Deleted: 'DELETED', Void: 'VOID' } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface HistoryEntry {
  revision: number;
  type: EntryType;
  /** Keys of the object the entry is about (absent on VOID entries). */
  pk?: string;
  sk?: string;
  /** The object's revision before this entry, 0 if it did not exist. */
  prev: number;
  /** The object after the change; for DELETED the last state, with the deletion's resourceVersion. */
  body: Uint8Array[];
}

export interface LogMarks {
  /** The last revision handed out. */
  revision: number;
  /** Every revision at or below this one is committed or void. */
  settled: number;
  /** Revisions below this are gone: asking for them is 410 Expired. */
  compacted: number;
  /** Superseded history at or below this revision has been deleted. */
  collected: number;
}

const counterKey = { pk: 'meta', sk: 'revision' } as const;
const compactionKey = { pk: 'meta', sk: 'compaction' } as const;
/** VOID entries are kept a day, far longer than any writer may hold a revision, then DynamoDB drops them. */
const voidTimeToLiveSeconds = 24 * 3600;

export function historyKey(revision: number): Key {
  return { pk: historyPartition(revision), sk: historySortKey };
}

export function entryObject(entry: HistoryEntry): KubernetesObject {
  return decodeBody(entry.body);
}

/** A committed change (not a void) to an object under `prefix`. */
export function isChangeUnder(
  entry: HistoryEntry,
  prefix: KeyPrefix,
): entry is HistoryEntry & { pk: string; sk: string; type: Exclude<EntryType, typeof EntryType.Void> } {
  return (
    entry.type !== EntryType.Void &&
    entry.pk !== undefined &&
    entry.sk !== undefined &&
    prefixContains(prefix, entry.pk, entry.sk)
  );
}

/** The revisions from `from` to `to`, inclusive. */
export function revisionRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export function tooOld(revision: number, compacted: number): Error {
  return expired(`too old resource version: ${revision} (${compacted})`);
}

function marksOf(items: readonly Item[]): LogMarks {
  const counter = items.find((item) => item.pk === counterKey.pk && item.sk === counterKey.sk);
  const compaction = items.find((item) => item.pk === compactionKey.pk && item.sk === compactionKey.sk);
  return {
    revision: Number(counter?.revision ?? 0),
    settled: Number(counter?.settled ?? 0),
    compacted: Number(compaction?.compacted ?? 0),
    collected: Number(compaction?.collected ?? 0),
  };
}

export class RevisionLog {
  constructor(
    readonly table: StoreTable,
    /** How long a taken revision may stay uncommitted before readers void it. */
    readonly holeDeadlineMs: number,
  ) {}

  async marks(): Promise<LogMarks> {
    const items: Item[] = [];
    const meta = query(this.table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': counterKey.pk },
    });
    for await (const item of meta) items.push(item);
    return marksOf(items);
  }

  /** The marks and whichever of these revisions' entries exist, in one round trip. */
  async readWithMarks(
    revisions: readonly number[],
  ): Promise<{ marks: LogMarks; entries: Map<number, HistoryEntry> }> {
    const items = await batchGet(this.table, [counterKey, compactionKey, ...revisions.map(historyKey)]);
    const entries = new Map<number, HistoryEntry>();
    for (const item of items) {
      if (item.pk === counterKey.pk) continue;
      const entry = await this.entryOf(item);
      entries.set(entry.revision, entry);
    }
    return { marks: marksOf(items), entries };
  }

  /** Takes the next revision (an atomic ADD: writers never retry against each other here). */
  async allocate(): Promise<number> {
    const attributes = await update(this.table, {
      Key: counterKey,
      UpdateExpression: 'ADD revision :one',
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    });
    return Number(attributes?.revision);
  }

  /** Marks a revision its writer gave up as void. False if it was already committed or void. */
  async voidOwn(revision: number): Promise<boolean> {
    return putIfAbsent(this.table, this.voidItem(revision));
  }

  /**
   * Voids someone else's hole, but never below the compaction mark: a reader that finds a missing
   * entry there is looking at collected history, not a hole, and gets 410.
   */
  async voidHole(revision: number): Promise<boolean> {
    const outcome = await transactWrite(this.table, [
      {
        ConditionCheck: {
          TableName: this.table.name,
          Key: compactionKey,
          ConditionExpression: 'attribute_not_exists(compacted) OR compacted < :rev',
          ExpressionAttributeValues: { ':rev': revision },
        },
      },
      {
        Put: {
          TableName: this.table.name,
          Item: this.voidItem(revision),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]);
    if (outcome.committed) return true;
    if (outcome.reasons[0]?.code === 'ConditionalCheckFailed') {
      throw tooOld(revision, Number(outcome.reasons[0].item?.compacted ?? revision));
    }
    if (outcome.reasons[1]?.code === 'ConditionalCheckFailed') return false;
    throw new Error(`voiding revision ${revision} failed: ${outcome.reasons.map((r) => r.code).join(', ')}`);
  }

  private voidItem(revision: number): Item & Key {
    return {
      ...historyKey(revision),
      revision,
      change: EntryType.Void,
      ttl: Math.floor(Date.now() / 1000) + voidTimeToLiveSeconds,
    };
  }

  /** The entries that exist among these revisions, with their bodies. */
  async read(revisions: readonly number[]): Promise<Map<number, HistoryEntry>> {
    const entries = new Map<number, HistoryEntry>();
    for (const item of await batchGet(this.table, revisions.map(historyKey))) {
      const entry = await this.entryOf(item);
      entries.set(entry.revision, entry);
    }
    return entries;
  }

  async readOne(revision: number): Promise<HistoryEntry | undefined> {
    const item = await getItem(this.table, historyKey(revision));
    return item && this.entryOf(item);
  }

  private async entryOf(item: Item): Promise<HistoryEntry> {
    const revision = Number(item.revision);
    const chunks = Number(item.chunks ?? 1);
    const body = item.body ? [item.body as Uint8Array] : [];
    if (chunks > 1) {
      const rest = query(this.table, {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunks)',
        ExpressionAttributeValues: {
          ':pk': historyPartition(revision),
          ':chunks': chunkPrefix(historySortKey),
        },
      });
      for await (const chunk of rest) body.push(chunk.body as Uint8Array);
      if (body.length !== chunks)
        throw new Error(`history entry ${revision} has ${body.length} of ${chunks} chunks`);
    }
    return {
      revision,
      type: item.change as EntryType,
      ...(item.change === EntryType.Void ? {} : { pk: item.objectPk as string, sk: item.objectSk as string }),
      prev: Number(item.prev ?? 0),
      body,
    };
  }

  /** Which of these revisions have no entry yet (reads keys only). */
  async missing(revisions: readonly number[]): Promise<number[]> {
    const present = new Set(
      (await batchGet(this.table, revisions.map(historyKey), 'revision')).map((item) =>
        Number(item.revision),
      ),
    );
    return revisions.filter((revision) => !present.has(revision));
  }

  /**
   * Makes every revision up to `upTo` committed or void, waiting out holes younger than the deadline,
   * then records the new settled mark. Lists call this so no late commit can land inside their snapshot.
   */
  async settle(upTo: number, marks?: LogMarks): Promise<void> {
    const from = (marks ?? (await this.marks())).settled + 1;
    if (from > upTo) return;
    const firstSeen = Date.now();
    for (let start = from; start <= upTo; start += 1000) {
      let holes = await this.missing(revisionRange(start, Math.min(start + 999, upTo)));
      for (let wait = 5; holes.length > 0; wait = Math.min(wait * 2, 50)) {
        if (Date.now() - firstSeen >= this.holeDeadlineMs) {
          for (const hole of holes) await this.voidHole(hole);
          break;
        }
        await sleep(wait);
        holes = await this.missing(holes);
      }
    }
    await this.markSettled(upTo);
  }

  /** Records that every revision up to `upTo` is committed or void (never moves backwards). */
  async markSettled(upTo: number): Promise<void> {
    await updateIf(this.table, {
      Key: counterKey,
      UpdateExpression: 'SET settled = :upTo',
      ConditionExpression: 'attribute_not_exists(settled) OR settled < :upTo',
      ExpressionAttributeValues: { ':upTo': upTo },
    });
  }

  /**
   * Moves the compaction mark to `revision` (never backwards), then deletes the history no request
   * can need any more: entries superseded at or below the mark and the entries of deletions.
   */
  async compact(revision: number): Promise<void> {
    const marks = await this.marks();
    if (revision > marks.revision)
      throw new Error(`cannot compact to ${revision}: newest is ${marks.revision}`);
    await this.settle(revision, marks);
    await updateIf(this.table, {
      Key: compactionKey,
      UpdateExpression: 'SET compacted = :rev',
      ConditionExpression: 'attribute_not_exists(compacted) OR compacted < :rev',
      ExpressionAttributeValues: { ':rev': revision },
    });
    await this.collect(marks.collected, Math.max(revision, marks.compacted));
  }

  /**
   * Periodic compaction as kube-apiserver asks etcd for it (every 5 minutes, to the revision seen at
   * the previous tick): compacts to the revision recorded by a call at least `intervalMs` before `now`,
   * then records the newest revision for a later call. Returns the revision compacted to, if any.
   * Safe concurrently: compaction never moves back, and only one caller replaces the recorded revision.
   */
  async compactPeriodically(now: number, intervalMs: number): Promise<number | undefined> {
    const item = await getItem(this.table, compactionKey);
    const candidate = Number(item?.candidate ?? 0);
    const candidateAt = Number(item?.candidateAt ?? 0);
    if (candidate > 0 && candidateAt > now - intervalMs) return undefined; // recorded too recently
    const marks = await this.marks();
    const compacted = candidate > marks.compacted ? candidate : undefined;
    if (compacted !== undefined) await this.compact(compacted);
    await updateIf(this.table, {
      Key: compactionKey,
      UpdateExpression: 'SET candidate = :revision, candidateAt = :now',
      ConditionExpression: 'attribute_not_exists(candidate) OR candidate = :previous',
      ExpressionAttributeValues: { ':revision': marks.revision, ':now': now, ':previous': candidate },
    });
    return compacted;
  }

  private async collect(collected: number, compacted: number): Promise<void> {
    for (let start = collected + 1; start <= compacted; start += 100) {
      const end = Math.min(start + 99, compacted);
      const doomed: number[] = [];
      for (const item of await batchGet(
        this.table,
        revisionRange(start, end).map(historyKey),
        'revision, change, prev',
      )) {
        if (Number(item.prev ?? 0) > 0) doomed.push(Number(item.prev));
        if (item.change === EntryType.Deleted) doomed.push(Number(item.revision));
      }
      const keys: Key[] = [];
      for (const revision of doomed) {
        const items = query(this.table, {
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': historyPartition(revision) },
          ProjectionExpression: 'pk, sk',
        });
        for await (const item of items) keys.push({ pk: item.pk as string, sk: item.sk as string });
      }
      await batchDelete(this.table, keys);
      await updateIf(this.table, {
        Key: compactionKey,
        UpdateExpression: 'SET collected = :end',
        ConditionExpression: 'attribute_not_exists(collected) OR collected < :end',
        ExpressionAttributeValues: { ':end': end },
      });
    }
  }
}
