import type { KubernetesObject } from '../api/types.js';
import { decodeBody } from './body.js';
import type { KeyPrefix } from './keys.js';
import {
  EntryType,
  type HistoryEntry,
  isChangeUnder,
  type LogMarks,
  type RevisionLog,
  revisionRange,
  tooOld,
} from './log.js';

export interface WatchOptions {
  signal?: AbortSignal;
  /** Pause between polls of an idle log. */
  pollIntervalMs?: number;
  /**
   * Emit a PROGRESS event after this long without events, and one when the signal ends the watch
   * (Kubernetes bookmarks); off by default.
   */
  progressIntervalMs?: number;
  /** Attach the object's previous state to MODIFIED events (for selectors that must see transitions). */
  withPrevious?: boolean;
}

export type StoreEvent =
  | {
      type: typeof EntryType.Added | typeof EntryType.Modified | typeof EntryType.Deleted;
      revision: number;
      object: KubernetesObject;
      previous?: KubernetesObject;
    }
  | { type: 'PROGRESS'; revision: number };

const batchSize = 100;
/** How far past the last known revision an active poll reads, to catch writes made since. */
const lookahead = 16;
/** Pause before looking again at a hole (a commit in flight) instead of the idle poll interval. */
const holeRetryMs = 5;
/** How often a tail records how far the log is settled, so lists need not check that range again. */
const settleMarkIntervalMs = 1000;

/**
 * Reads the log in revision order from `position`, returning each revision exactly once. A missing
 * entry is a hole: the tail stops there and, once the hole is older than the deadline, voids it.
 *
 * An idle tail polls the marks alone (one small Query). While revisions arrive, a poll is a single
 * BatchGetItem of the marks and the next entries, reaching a little past the last known revision.
 */
export class LogTail {
  private hole?: { revision: number; since: number };
  private lastSettleMark = 0;
  /** The newest revision the last poll knew of. */
  private known = 0;
  /** The last poll stopped at a hole: a write is in flight and will land in milliseconds. */
  waitingOnHole = false;

  constructor(
    private readonly log: RevisionLog,
    /** The next revision to read. */
    public position: number,
  ) {}

  async poll(): Promise<HistoryEntry[]> {
    let marks: LogMarks;
    let entries: Map<number, HistoryEntry>;
    if (this.known >= this.position) {
      const upTo = Math.min(this.position + batchSize - 1, this.known + lookahead);
      ({ marks, entries } = await this.log.readWithMarks(revisionRange(this.position, upTo)));
    } else {
      marks = await this.log.marks();
      if (marks.revision < this.position) {
        this.checkCompaction(marks);
        this.waitingOnHole = false;
        return [];
      }
      entries = await this.log.read(
        revisionRange(this.position, Math.min(marks.revision, this.position + batchSize - 1)),
      );
    }
    this.checkCompaction(marks);
    this.known = marks.revision;

    const ordered: HistoryEntry[] = [];
    this.waitingOnHole = false;
    for (let revision = this.position; ; revision++) {
      let entry = entries.get(revision);
      if (!entry && revision <= marks.revision) {
        entry = await this.fillHole(revision);
        this.waitingOnHole = !entry;
      }
      if (!entry) break;
      ordered.push(entry);
      this.position = revision + 1;
    }
    if (
      ordered.length > 0 &&
      Date.now() - this.lastSettleMark >= settleMarkIntervalMs &&
      marks.settled < this.position - 1
    ) {
      this.lastSettleMark = Date.now();
      await this.log.markSettled(this.position - 1);
    }
    return ordered;
  }

  private checkCompaction(marks: LogMarks): void {
    if (this.position - 1 < marks.compacted) throw tooOld(this.position - 1, marks.compacted);
  }

  private async fillHole(revision: number): Promise<HistoryEntry | undefined> {
    const now = Date.now();
    if (this.hole?.revision !== revision) {
      this.hole = { revision, since: now };
      return undefined;
    }
    if (now - this.hole.since < this.log.holeDeadlineMs) return undefined;
    this.hole = undefined;
    if (await this.log.voidHole(revision)) return { revision, type: EntryType.Void, prev: 0, body: [] };
    return this.log.readOne(revision); // committed just before the void
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Every change under `prefix` with a revision above `fromRevision`, in revision order, each once.
 * Throws 410 Expired when `fromRevision` is (or falls) below the compaction mark.
 */
export async function* watchLog(
  log: RevisionLog,
  prefix: KeyPrefix,
  fromRevision: number,
  options: WatchOptions = {},
): AsyncGenerator<StoreEvent> {
  const { signal, pollIntervalMs = 50, progressIntervalMs, withPrevious = false } = options;
  const tail = new LogTail(log, fromRevision + 1);
  let lastEvent = Date.now();
  while (!signal?.aborted) {
    const entries = await tail.poll();
    for (const entry of entries) {
      if (!isChangeUnder(entry, prefix)) continue;
      const object = decodeBody(entry.body);
      let previous: KubernetesObject | undefined;
      if (withPrevious && entry.type === EntryType.Modified) {
        const earlier = await log.readOne(entry.prev);
        if (!earlier) throw tooOld(entry.prev, entry.revision);
        previous = decodeBody(earlier.body);
      }
      yield { type: entry.type, revision: entry.revision, object, ...(previous ? { previous } : {}) };
      lastEvent = Date.now();
    }
    if (progressIntervalMs !== undefined && Date.now() - lastEvent >= progressIntervalMs) {
      yield { type: 'PROGRESS', revision: tail.position - 1 };
      lastEvent = Date.now();
    }
    if (entries.length === 0) await abortableSleep(tail.waitingOnHole ? holeRetryMs : pollIntervalMs, signal);
  }
  // Ended by the caller: say how far the log was read, so a client resumes from there.
  if (progressIntervalMs !== undefined) yield { type: 'PROGRESS', revision: tail.position - 1 };
}
