import type { Node } from '../../shared/api/core.js';
import { ApiError } from '../../shared/api/errors.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import { coalesced } from '../../shared/concurrency.js';
import type { Store } from '../../shared/store/store.js';
import {
  type AllocationEntry,
  type AllocationRecord,
  addEntry,
  allocationKey,
  allocationResource,
  type NodeUsage,
  usageOf,
} from './allocation.js';
import type { NodeState } from './decide.js';
import { type Allocatable, allocatableOf } from './filters.js';

const nodes = resourceType('nodes');

export interface CachedRecord {
  /** 0: the record does not exist (as far as this view knows). */
  revision: number;
  record?: AllocationRecord;
  usage: NodeUsage;
}

const absent = (): CachedRecord => ({ revision: 0, usage: usageOf([]) });

/**
 * This process's view of the nodes and their allocation records, read at most every `ttlMs` (one list
 * of each, shared by every decision in between, not one per pod). The records are also updated by this
 * process's own writes and by re-reads after a conflict, always keeping the newest revision; and the
 * reservations this process is about to write are overlaid, so concurrent decisions here spread out
 * instead of all picking the same best node.
 */
export class ClusterView {
  private nodes = new Map<string, { node: Node; allocatable: Allocatable }>();
  private readonly records = new Map<string, CachedRecord>();
  private readonly pending = new Map<string, Map<string, AllocationEntry>>();
  /** When the newest read started (how fresh the view is) and when it finished (the TTL runs from there). */
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private completedAt = Number.NEGATIVE_INFINITY;
  /** A read that started before this is too old, whatever the TTL says (a node changed since). */
  private invalidatedAt = Number.NEGATIVE_INFINITY;
  private readonly fetch: (client: ApiClient) => Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
  ) {
    this.fetch = coalesced(async (client: ApiClient) => {
      const started = Date.now();
      const [nodeList, recordList] = await Promise.all([
        client.list<Node>(nodes),
        this.store.list({ resource: allocationResource }),
      ]);
      this.nodes = new Map(
        nodeList.items.map((node) => [node.metadata.name, { node, allocatable: allocatableOf(node) }]),
      );
      const listed = new Set<string>();
      for (const item of recordList.items) {
        const record = item as AllocationRecord;
        listed.add(record.metadata.name);
        this.put(record);
      }
      for (const [name, cached] of this.records) {
        if (!listed.has(name) && cached.revision <= recordList.revision) this.records.delete(name);
      }
      this.fetchedAt = started;
      this.completedAt = Date.now();
    });
  }

  /**
   * Reads nodes and records again if the view is older than a change seen since (`invalidate`), or the
   * last read finished more than the TTL ago (so under load, when a read takes long, reads do not
   * follow each other back to back), or, with `maxAgeMs`, if the view was read longer ago than that:
   * `0` asks for a read that starts after this call.
   */
  async refresh(client: ApiClient, maxAgeMs?: number): Promise<void> {
    const now = Date.now();
    const fresh =
      this.fetchedAt > this.invalidatedAt &&
      (maxAgeMs === undefined ? now - this.completedAt < this.ttlMs : now - this.fetchedAt < maxAgeMs);
    if (!fresh) await this.fetch(client);
  }

  /** A node changed: the next decision reads the view again (a read that starts after now). */
  invalidate(): void {
    this.invalidatedAt = Date.now();
  }

  /** How long ago the view was read (ms). */
  age(): number {
    return Date.now() - this.fetchedAt;
  }

  node(name: string): Node | undefined {
    return this.nodes.get(name)?.node;
  }

  allocatable(name: string): Allocatable | undefined {
    return this.nodes.get(name)?.allocatable;
  }

  nodeCount(): number {
    return this.nodes.size;
  }

  record(name: string): CachedRecord {
    return this.records.get(name) ?? absent();
  }

  /** Takes a record as read or written, unless this view already has a newer one. */
  put(record: AllocationRecord): void {
    const revision = Number(record.metadata.resourceVersion);
    const cached = this.records.get(record.metadata.name);
    if (cached && cached.revision >= revision) return;
    this.records.set(record.metadata.name, { revision, record, usage: usageOf(Object.values(record.pods)) });
  }

  /** Forgets a record that was deleted at `revision`. */
  forget(name: string, revision: number): void {
    const cached = this.records.get(name);
    if (cached && cached.revision <= revision) this.records.delete(name);
  }

  /** Reads one record from the store (after a conflict): the view then has it as it is now. */
  async reload(name: string): Promise<CachedRecord> {
    try {
      this.put((await this.store.get(allocationKey(name))) as AllocationRecord);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
      this.records.delete(name);
    }
    return this.record(name);
  }

  /** The node whose record holds a reservation for this pod, if any. */
  reservationOf(uid: string): { node: string; entry: AllocationEntry } | undefined {
    for (const [node, cached] of this.records) {
      const entry = cached.record?.pods[uid];
      if (entry) return { node, entry };
    }
    return undefined;
  }

  /** Every entry recorded for the pod `namespace/name` (any uid, any node). */
  entriesFor(namespace: string, name: string): { node: string; uid: string; entry: AllocationEntry }[] {
    const found: { node: string; uid: string; entry: AllocationEntry }[] = [];
    for (const [node, cached] of this.records) {
      for (const [uid, entry] of Object.entries(cached.record?.pods ?? {})) {
        if (entry.name === name && entry.namespace === namespace) found.push({ node, uid, entry });
      }
    }
    return found;
  }

  addPending(node: string, uid: string, entry: AllocationEntry): void {
    const entries = this.pending.get(node) ?? new Map<string, AllocationEntry>();
    entries.set(uid, entry);
    this.pending.set(node, entries);
  }

  removePending(node: string, uid: string): void {
    const entries = this.pending.get(node);
    entries?.delete(uid);
    if (entries?.size === 0) this.pending.delete(node);
  }

  /** Every node with what is reserved on it, this process's reservations in flight included. */
  states(): NodeState[] {
    const states: NodeState[] = [];
    for (const [name, { node, allocatable }] of this.nodes) {
      const cached = this.record(name);
      const overlay = this.pending.get(name);
      let usage = cached.usage;
      if (overlay) {
        const recorded = cached.record?.pods ?? {};
        const extra = [...overlay].filter(([uid]) => !(uid in recorded)).map(([, entry]) => entry);
        if (extra.length > 0) {
          usage = usageOf(Object.values(recorded));
          for (const entry of extra) addEntry(usage, entry);
        }
      }
      states.push({ node, usage, allocatable });
    }
    return states;
  }
}
