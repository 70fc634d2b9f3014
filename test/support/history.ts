import type { KubernetesObject } from '../../shared/api/types.js';
import type { KeyPrefix } from '../../shared/store/keys.js';
import {
  EntryType,
  entryObject,
  type HistoryEntry,
  isChangeUnder,
  type RevisionLog,
  revisionRange,
} from '../../shared/store/log.js';

/** Every history entry from `from` to `to`, in revision order; fails on a hole (the log must be settled). */
export async function readHistory(log: RevisionLog, from: number, to: number): Promise<HistoryEntry[]> {
  const revisions = revisionRange(from, to);
  const entries = await log.read(revisions);
  for (const revision of revisions)
    if (!entries.has(revision)) throw new Error(`hole at revision ${revision}`);
  return revisions.map((revision) => entries.get(revision) as HistoryEntry);
}

/** The objects under `prefix` at `revision`, by replaying the whole history: the checker for lists. */
export async function replayTo(
  log: RevisionLog,
  prefix: KeyPrefix,
  revision: number,
): Promise<KubernetesObject[]> {
  const state = new Map<string, KubernetesObject>();
  for (const entry of await readHistory(log, 1, revision)) {
    if (!isChangeUnder(entry, prefix)) continue;
    if (entry.type === EntryType.Deleted) state.delete(entry.sk);
    else state.set(entry.sk, entryObject(entry));
  }
  return [...state.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, object]) => object);
}
