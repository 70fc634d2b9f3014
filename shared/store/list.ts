import { badRequest, expired, timeout } from '../api/errors.js';
import type { KubernetesObject } from '../api/types.js';
import { decodeBody } from './body.js';
import { type KeyPrefix, sortKeyRange } from './keys.js';
import { type HistoryEntry, isChangeUnder, type RevisionLog, revisionRange, tooOld } from './log.js';
import { readObjects, type StoredObject } from './objects.js';

export interface ListOptions {
  /** List the state at exactly this revision (resourceVersionMatch=Exact); default: the newest. */
  revision?: number;
  /** At most this many items; `continue` in the result fetches the next page at the same revision. */
  limit?: number;
  continue?: string;
  /** Only items this accepts count toward `limit` (label and field selectors). */
  filter?: (object: KubernetesObject) => boolean;
}

export interface ListResult {
  items: KubernetesObject[];
  /** The revision this list is a snapshot of. */
  revision: number;
  continue?: string;
}

interface ContinueToken {
  revision: number;
  start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(
    JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.revision, start: token.start }),
  ).toString('base64url');
}

function decodeContinue(token: string, prefix: KeyPrefix): ContinueToken {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString());
  } catch {
    decoded = undefined;
  }
  const { rv, start } = (decoded ?? {}) as { rv?: unknown; start?: unknown };
  const range = sortKeyRange(prefix);
  if (
    !Number.isSafeInteger(rv) ||
    (rv as number) <= 0 ||
    typeof start !== 'string' ||
    (range.from !== undefined && start < range.from) ||
    (range.to !== undefined && start > range.to)
  ) {
    throw badRequest('continue key is not valid');
  }
  return { revision: rv as number, start };
}

/**
 * The changes made after a snapshot revision, as the state each changed key had at the snapshot
 * (`null`: it did not exist then). Extending the window reads the history committed since the last
 * read, plus revisions that were still uncommitted then.
 */
class ReplayWindow {
  readonly before = new Map<string, StoredObject | null>();
  private readUpTo: number;
  private unresolved: number[] = [];

  constructor(
    private readonly log: RevisionLog,
    private readonly prefix: KeyPrefix,
    private readonly snapshot: number,
  ) {
    this.readUpTo = snapshot;
  }

  async extend(): Promise<void> {
    const marks = await this.log.marks();
    if (this.snapshot < marks.compacted) throw tooOld(this.snapshot, marks.compacted);
    const revisions = [...this.unresolved, ...revisionRange(this.readUpTo + 1, marks.revision)];
    const entries = await this.log.read(revisions);
    this.unresolved = revisions.filter((r) => !entries.has(r));
    this.readUpTo = marks.revision;
    for (const entry of [...entries.values()].sort((a, b) => a.revision - b.revision)) {
      if (!isChangeUnder(entry, this.prefix) || this.before.has(entry.sk)) continue;
      this.before.set(entry.sk, await this.stateAtSnapshot(entry));
    }
  }

  /** Walks the key's previous revisions back to the one current at the snapshot. */
  private async stateAtSnapshot(entry: HistoryEntry & { sk: string }): Promise<StoredObject | null> {
    let prev = entry.prev;
    for (;;) {
      if (prev === 0) return null;
      const earlier = await this.log.readOne(prev);
      if (!earlier) throw tooOld(this.snapshot, prev);
      if (prev <= this.snapshot) return { sk: entry.sk, revision: prev, body: earlier.body };
      prev = earlier.prev;
    }
  }
}

/**
 * A list that is a snapshot at one revision. Settle the log up to the snapshot (so no late commit can
 * land inside it), read the live items, then replace whatever changed after the snapshot by its state
 * at the snapshot, found in the history written since.
 */
export async function listSnapshot(
  log: RevisionLog,
  prefix: KeyPrefix,
  options: ListOptions,
): Promise<ListResult> {
  const token = options.continue === undefined ? undefined : decodeContinue(options.continue, prefix);
  const marks = await log.marks();
  const snapshot = token?.revision ?? options.revision ?? marks.revision;
  if (snapshot < marks.compacted) {
    throw token
      ? expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        )
      : tooOld(snapshot, marks.compacted);
  }
  if (snapshot > marks.revision)
    throw timeout(`Too large resource version: ${snapshot}, current: ${marks.revision}`);
  await log.settle(snapshot, marks);

  // A page is at most what a DynamoDB Query may ask for (limit + 1 items are read); a server may
  // return fewer items than the limit, with a continue token.
  const limit = options.limit && options.limit > 0 ? Math.min(options.limit, 2 ** 31 - 2) : undefined;
  const window = new ReplayWindow(log, prefix, snapshot);
  const live = readObjects(log.table, prefix, token?.start, limit === undefined ? undefined : limit + 1);
  const items: { sk: string; object: KubernetesObject }[] = [];
  let lower = token?.start;
  for (;;) {
    const batch: StoredObject[] = [];
    const wanted = limit === undefined ? Number.POSITIVE_INFINITY : limit + 1 - items.length;
    while (batch.length < wanted) {
      const next = await live.next();
      if (next.done) break;
      batch.push(next.value);
    }
    const exhausted = batch.length < wanted;
    await window.extend();
    const upper = exhausted ? undefined : batch.at(-1)?.sk;
    const inRange = (sk: string) =>
      (lower === undefined || sk > lower) && (upper === undefined || sk <= upper);
    const candidates: StoredObject[] = [];
    for (const stored of batch) {
      if (window.before.has(stored.sk)) continue;
      if (stored.revision > snapshot)
        throw new Error(`object ${stored.sk} at ${stored.revision} is missing from the history`);
      candidates.push(stored);
    }
    for (const [sk, state] of window.before) if (state && inRange(sk)) candidates.push(state);
    candidates.sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    for (const candidate of candidates) {
      const object = decodeBody(candidate.body);
      if (!options.filter || options.filter(object)) items.push({ sk: candidate.sk, object });
    }
    if (limit !== undefined && items.length > limit) {
      const last = items[limit - 1] as { sk: string };
      return {
        items: items.slice(0, limit).map((i) => i.object),
        revision: snapshot,
        continue: encodeContinue({ revision: snapshot, start: last.sk }),
      };
    }
    if (exhausted) return { items: items.map((i) => i.object), revision: snapshot };
    lower = upper;
  }
}
