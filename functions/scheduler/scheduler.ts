import type { Node, Pod } from '../../shared/api/core.js';
import { hasCode } from '../../shared/api/errors.js';
import { resourceType } from '../../shared/api/resources.js';
import { timestamp } from '../../shared/api/time.js';
import { coalesced, forEachLimited, KeyedMutex } from '../../shared/concurrency.js';
import type { Store } from '../../shared/store/store.js';
import type { ControllerContext, ReconcileResult } from '../runtime/controller.js';
import {
  type AllocationEntry,
  type AllocationRecord,
  allocationKey,
  allocationResource,
  entryFor,
  isTerminal,
  reservationTimeoutMs,
  syncedEntries,
} from './allocation.js';
import { decide } from './decide.js';
import { insufficientResources, portsFree } from './filters.js';
import { type PodRequest, podRequest } from './requests.js';
import { ClusterView } from './view.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

export const schedulerName = 'default-scheduler';

export interface SchedulerOptions {
  /** How long one read of the nodes and allocation records serves decisions. Default 1 s. */
  snapshotTtlMs?: number;
  /** Pods scheduled at once by a pass over the pending pods. Default 8. */
  concurrency?: number;
  /** Ties between equally good nodes are broken with this. */
  random?: () => number;
  /** Shortest and longest requeue of an unschedulable pod (safety net; changes wake it sooner). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A pod this scheduler should place: ours, unbound, alive. */
export function needsScheduling(pod: Pod): boolean {
  return (
    !pod.spec.nodeName &&
    !pod.metadata.deletionTimestamp &&
    (pod.spec.schedulerName ?? schedulerName) === schedulerName &&
    !isTerminal(pod)
  );
}

type Reservation = 'reserved' | 'full';

/** Decisions and writes live here; `index.ts` wires them to triggers. One instance per process. */
export class Scheduler {
  private readonly view: ClusterView;
  private readonly locks = new KeyedMutex();
  private readonly inFlight = new Map<string, Promise<ReconcileResult | undefined>>();
  private readonly warned = new Map<string, { message: string; at: number }>();
  private readonly swept = new Map<string, number>();
  /** Room was released while placing pods: the pods waiting get another pass (never from inside one). */
  private freed = false;
  private readonly listPods: (ctx: ControllerContext) => Promise<Pod[]>;
  private readonly pass: (ctx: ControllerContext) => Promise<void>;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly store: Store,
    options: SchedulerOptions = {},
  ) {
    this.view = new ClusterView(store, options.snapshotTtlMs ?? 1000);
    this.concurrency = options.concurrency ?? 8;
    this.random = options.random ?? Math.random;
    this.minBackoffMs = options.minBackoffMs ?? 5000;
    this.maxBackoffMs = options.maxBackoffMs ?? 120_000;
    this.listPods = coalesced(async (ctx: ControllerContext) => (await ctx.client.list<Pod>(pods)).items);
    this.pass = coalesced((ctx: ControllerContext) => this.schedulePendingNow(ctx));
  }

  /**
   * The `scheduler` controller, for the pod `namespace/name`: places it if it needs a node; otherwise
   * keeps the allocation records in line with it (releases its room once it is gone or finished,
   * records it where someone else bound it) and, when room was released, retries the pods waiting.
   */
  async reconcilePod(
    namespace: string | undefined,
    name: string,
    ctx: ControllerContext,
  ): Promise<ReconcileResult | undefined> {
    const pod = await ctx.client.find<Pod>(pods, namespace, name);
    let result: ReconcileResult | undefined;
    if (pod && needsScheduling(pod)) result = await this.schedule(pod, ctx);
    else if (await this.account(namespace ?? 'default', name, pod, ctx)) this.freed = true;
    if (this.freed) await this.schedulePending(ctx);
    return result;
  }

  /**
   * Brings the records in line with one pod that needs no scheduling: entries of a pod that is gone or
   * finished (or of an earlier pod of that name) are released, as is a second reservation for it left
   * by a scheduler that died before binding; a bound pod no record accounts for is recorded on its
   * node. True if room was released.
   */
  private async account(
    namespace: string,
    name: string,
    pod: Pod | undefined,
    ctx: ControllerContext,
  ): Promise<boolean> {
    const live = pod && !isTerminal(pod) ? pod : undefined;
    // The common case (a bound pod's status changed, its entry is where it runs): nothing to read or write.
    if (live && this.accountedFor(live)) return false;
    await this.view.refresh(ctx.client);
    let found = this.view.entriesFor(namespace, name);
    if (found.length === 0 && !live) {
      // Reserved by another scheduler since this view was read? Look again before letting it go.
      await this.view.refresh(ctx.client, 0);
      found = this.view.entriesFor(namespace, name);
    }
    const now = ctx.now().getTime();
    let released = false;
    for (const { node, uid, entry } of found) {
      const current = live?.metadata.uid === uid;
      const stale = now - Date.parse(entry.reservedAt) >= reservationTimeoutMs;
      const boundElsewhere = current && live?.spec.nodeName && live.spec.nodeName !== node;
      if (!current || (boundElsewhere && stale)) released = (await this.release(node, uid)) || released;
    }
    const node = live?.spec.nodeName;
    const uid = live?.metadata.uid;
    if (live && node && uid && !this.view.record(node).record?.pods[uid]) {
      if (!(await this.view.reload(node)).record?.pods[uid]) await this.adopt(node, live, ctx);
    }
    return released;
  }

  /** True if this view has the bound, live pod recorded on its node, and nowhere else. */
  accountedFor(pod: Pod): boolean {
    const { namespace, name, uid } = pod.metadata;
    if (!pod.spec.nodeName || isTerminal(pod)) return false;
    const found = this.view.entriesFor(namespace ?? 'default', name);
    return found.length === 1 && found[0]?.uid === uid && found[0]?.node === pod.spec.nodeName;
  }

  /** Records a pod found bound to a node without a reservation (bound by someone else): it is there, room or not. */
  private async adopt(node: string, pod: Pod, ctx: ControllerContext): Promise<void> {
    const uid = pod.metadata.uid as string;
    const entry = entryFor(pod, podRequest(pod), ctx.now());
    await this.locks.run(node, async () => {
      for (let cached = this.view.record(node); ; cached = await this.view.reload(node)) {
        if (cached.record?.pods[uid]) return;
        const record: AllocationRecord = {
          metadata: { name: node },
          pods: { ...(cached.record?.pods ?? {}), [uid]: entry },
        };
        try {
          const written = cached.record
            ? await this.store.update(allocationKey(node), record, cached.revision)
            : await this.store.create(allocationKey(node), record);
          this.view.put(written as AllocationRecord);
          return;
        } catch (error) {
          if (!hasCode(error, 409)) throw error;
        }
      }
    });
  }

  /** A node changed (seen in the stream): decisions from now on read nodes and records again first. */
  nodeChanged(): void {
    this.view.invalidate();
  }

  /** Places a pod; a second call for a pod already being placed here waits for the first. */
  schedule(pod: Pod, ctx: ControllerContext): Promise<ReconcileResult | undefined> {
    const uid = pod.metadata.uid as string;
    const running = this.inFlight.get(uid);
    if (running) return running;
    const attempt = this.scheduleNow(pod, ctx).finally(() => this.inFlight.delete(uid));
    this.inFlight.set(uid, attempt);
    return attempt;
  }

  private async scheduleNow(pod: Pod, ctx: ControllerContext): Promise<ReconcileResult | undefined> {
    const uid = pod.metadata.uid as string;
    const request = podRequest(pod);
    await this.view.refresh(ctx.client);

    // Room already reserved (a retry after a crash between reserve and bind): bind there, not twice.
    let reserved = this.view.reservationOf(uid);
    if (reserved && ctx.now().getTime() - Date.parse(reserved.entry.reservedAt) > reservationTimeoutMs / 2) {
      // Old enough that a resync may have taken it back as leaked: trust only the record as it is now.
      const fresh = await this.view.reload(reserved.node);
      if (!fresh.record?.pods[uid]) reserved = undefined;
    }
    if (reserved) return this.bind(pod, reserved.node, ctx);

    let swept = false;
    for (let attempt = 0; attempt < 10; attempt++) {
      const decision = decide(pod, request, this.view.states(), this.random);
      if (decision.kind === 'bind') {
        const entry = entryFor(pod, request, ctx.now());
        if ((await this.reserve(decision.node, uid, request, entry)) === 'reserved')
          return this.bind(pod, decision.node, ctx);
        continue; // the record changed under us: the view has it now, decide again
      }
      const full = [...decision.failures].filter(([, f]) => f.resolvable).map(([node]) => node);
      if (!swept && full.length > 0) {
        // Nodes look full: reservations that leaked (their scheduler died before binding) free up.
        swept = true;
        if (await this.sweep(full, ctx)) continue;
      }
      return this.markUnschedulable(pod, decision.message, ctx);
    }
    throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name}: no reservation after 10 tries`);
  }

  /**
   * Adds the pod to the node's record with compare-and-swap, if the record, as stored, still has room:
   * the conditional write that makes overcommitting impossible whatever runs concurrently. Writes to
   * one record from this process queue up rather than conflict.
   */
  private async reserve(
    node: string,
    uid: string,
    request: PodRequest,
    entry: AllocationEntry,
  ): Promise<Reservation> {
    this.view.addPending(node, uid, entry);
    try {
      return await this.locks.run(node, async () => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const cached = this.view.record(node);
          if (cached.record?.pods[uid]) return 'reserved';
          const allocatable = this.view.allocatable(node);
          if (
            !allocatable ||
            !portsFree(request, cached.usage) ||
            insufficientResources(request, cached.usage, allocatable).length > 0
          )
            return 'full';
          const record: AllocationRecord = {
            metadata: { name: node },
            pods: { ...(cached.record?.pods ?? {}), [uid]: entry },
          };
          try {
            const written = cached.record
              ? await this.store.update(allocationKey(node), record, cached.revision)
              : await this.store.create(allocationKey(node), record);
            this.view.put(written as AllocationRecord);
            return 'reserved';
          } catch (error) {
            if (!hasCode(error, 409)) throw error;
            await this.view.reload(node);
          }
        }
        return 'full';
      });
    } finally {
      this.view.removePending(node, uid);
    }
  }

  /** Takes a pod's entry out of a node's record (compare-and-swap, again after a conflict); true if it was there. */
  async release(node: string, uid: string): Promise<boolean> {
    return this.locks.run(node, async () => {
      for (let cached = this.view.record(node); ; cached = await this.view.reload(node)) {
        if (!cached.record?.pods[uid]) {
          cached = await this.view.reload(node);
          if (!cached.record?.pods[uid]) return false;
        }
        const { [uid]: _released, ...rest } = cached.record.pods;
        try {
          this.view.put(
            (await this.store.update(
              allocationKey(node),
              { metadata: { name: node }, pods: rest },
              cached.revision,
            )) as AllocationRecord,
          );
          return true;
        } catch (error) {
          if (!hasCode(error, 409, 404)) throw error;
        }
      }
    });
  }

  private async bind(pod: Pod, node: string, ctx: ControllerContext): Promise<undefined> {
    const namespace = pod.metadata.namespace as string;
    const name = pod.metadata.name;
    const uid = pod.metadata.uid as string;
    try {
      await ctx.client.post(pods, namespace, name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { kind: 'Node', name: node },
      });
    } catch (error) {
      if (!hasCode(error, 404, 409)) throw error;
      // Gone, being deleted, or bound already: by us before a crash (then done), or elsewhere.
      const current = await ctx.client.find<Pod>(pods, namespace, name);
      if (current?.metadata.uid === uid && current.spec.nodeName === node) return undefined;
      // The room goes back; a pod waiting for it may fit now (retried once this reconcile is done).
      if (await this.release(node, uid)) this.freed = true;
      return undefined;
    }
    this.warned.delete(uid);
    ctx.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
    return undefined;
  }

  /**
   * `PodScheduled=False`/`Unschedulable` with upstream's message, written through the status
   * subresource only when it changes, and a `FailedScheduling` event (at most once a minute per pod
   * and message from this process). The pod is looked at again after a backoff that grows with how long
   * it has been unschedulable; node changes and releases wake it sooner.
   */
  private async markUnschedulable(
    pod: Pod,
    message: string,
    ctx: ControllerContext,
  ): Promise<ReconcileResult> {
    const now = ctx.now();
    const stamp = timestamp(now);
    let current: Pod | undefined = pod;
    let since = now.getTime();
    for (let attempt = 0; current && needsScheduling(current) && attempt < 5; attempt++) {
      const conditions = current.status?.conditions ?? [];
      const previous = conditions.find((c) => c.type === 'PodScheduled');
      const wasFalse = previous?.status === 'False';
      if (wasFalse && previous?.lastTransitionTime) since = Date.parse(previous.lastTransitionTime);
      if (wasFalse && previous?.reason === 'Unschedulable' && previous.message === message) break;
      const condition = {
        type: 'PodScheduled',
        status: 'False' as const,
        lastProbeTime: null,
        lastTransitionTime: wasFalse ? (previous?.lastTransitionTime ?? stamp) : stamp,
        reason: 'Unschedulable',
        message,
      };
      const status = {
        ...current.status,
        phase: current.status?.phase ?? 'Pending',
        conditions: [...conditions.filter((c) => c.type !== 'PodScheduled'), condition],
      };
      try {
        await ctx.client.update(pods, { ...current, status }, 'status');
        break;
      } catch (error) {
        if (!hasCode(error, 409, 404)) throw error;
        current = await ctx.client.find<Pod>(pods, pod.metadata.namespace, pod.metadata.name);
        if (current?.metadata.uid !== pod.metadata.uid) current = undefined;
      }
    }
    if (!current || !needsScheduling(current)) return {};
    const uid = pod.metadata.uid as string;
    const last = this.warned.get(uid);
    if (!last || last.message !== message || now.getTime() - last.at >= 60_000) {
      if (this.warned.size > 10_000) this.warned.clear();
      this.warned.set(uid, { message, at: now.getTime() });
      ctx.events.record(current, 'Warning', 'FailedScheduling', message);
    }
    const waited = now.getTime() - since;
    return { requeueAfterMs: Math.min(this.maxBackoffMs, Math.max(this.minBackoffMs, waited)) };
  }

  /** Syncs the records of nodes that look full, at most every 30 s per node; true if room was freed. */
  private async sweep(candidates: string[], ctx: ControllerContext): Promise<boolean> {
    const now = Date.now();
    const due = candidates.filter((node) => now - (this.swept.get(node) ?? 0) >= reservationTimeoutMs);
    if (due.length === 0) return false;
    for (const node of due) this.swept.set(node, now);
    const released = await this.syncRecords(ctx, due);
    if (released > 0) this.freed = true;
    return released > 0;
  }

  /**
   * Brings allocation records in line with the pods that exist (`names`, or every record and every node
   * with pods): releases finished, deleted and leaked entries, adds pods bound by someone else, and
   * deletes the record of a node that is gone once nothing is left on it. Returns how many entries were
   * released.
   */
  async syncRecords(ctx: ControllerContext, names?: readonly string[]): Promise<number> {
    // Records first, then pods: every entry read was reserved before the pod list was taken.
    const listed = await this.store.list({ resource: allocationResource });
    const records = new Map(
      (listed.items as AllocationRecord[])
        .filter((r) => !names || names.includes(r.metadata.name))
        .map((r) => [r.metadata.name, r]),
    );
    const [allPods, nodeList] = await Promise.all([this.listPods(ctx), ctx.client.list<Node>(nodes)]);
    const existing = new Set(nodeList.items.map((n) => n.metadata.name));
    const byUid = new Map(allPods.filter((p) => p.metadata.uid).map((p) => [p.metadata.uid as string, p]));
    const byNode = new Map<string, Pod[]>();
    for (const pod of allPods) {
      const node = pod.spec.nodeName;
      if (!node || (names && !names.includes(node))) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    let released = 0;
    for (const name of new Set([...records.keys(), ...byNode.keys()])) {
      released += await this.syncRecord(
        ctx,
        name,
        records.get(name),
        byUid,
        byNode.get(name) ?? [],
        existing,
      );
    }
    return released;
  }

  private async syncRecord(
    ctx: ControllerContext,
    name: string,
    initial: AllocationRecord | undefined,
    byUid: Map<string, Pod>,
    onNode: Pod[],
    existing: Set<string>,
  ): Promise<number> {
    return this.locks.run(name, async () => {
      let record = initial;
      for (let attempt = 0; attempt < 5; attempt++) {
        if (attempt > 0) {
          // Lost a race: read the record again, then the pods again (after it, as the first time).
          record = (await this.view.reload(name)).record;
          const fresh = await this.listPods(ctx);
          byUid = new Map(fresh.filter((p) => p.metadata.uid).map((p) => [p.metadata.uid as string, p]));
          onNode = fresh.filter((p) => p.spec.nodeName === name);
        }
        const now = ctx.now();
        const entries = syncedEntries(
          record,
          name,
          byUid,
          onNode,
          (pod) => entryFor(pod, podRequest(pod), now),
          now,
        );
        const before = Object.keys(record?.pods ?? {});
        const after = entries ?? record?.pods ?? {};
        const released = before.filter((uid) => !(uid in after)).length;
        const key = allocationKey(name);
        try {
          if (record && !existing.has(name) && Object.keys(after).length === 0) {
            const deleted = await this.store.delete(key, {
              resourceVersion: record.metadata.resourceVersion as string,
            });
            this.view.forget(name, Number(deleted.metadata.resourceVersion));
          } else if (entries) {
            const next: AllocationRecord = { metadata: { name }, pods: entries };
            const written = record
              ? await this.store.update(key, next, Number(record.metadata.resourceVersion))
              : await this.store.create(key, next);
            this.view.put(written as AllocationRecord);
          }
          return released;
        } catch (error) {
          if (!hasCode(error, 409, 404)) throw error;
        }
      }
      throw new Error(`allocation record ${name}: still conflicting after 5 tries`);
    });
  }

  /**
   * A pass over the pods waiting to be scheduled, highest priority and oldest first, after something
   * made room (a node came, changed or a reservation was released). Calls that arrive during a pass
   * share the next one.
   */
  schedulePending(ctx: ControllerContext): Promise<void> {
    return this.pass(ctx);
  }

  private async schedulePendingNow(ctx: ControllerContext): Promise<void> {
    // Room released during a pass (a lost bind race) is for the pods still waiting: one more round.
    for (let round = 0; round < 3; round++) {
      this.freed = false;
      const [list] = await Promise.all([
        ctx.client.list<Pod>(pods, { fieldSelector: 'spec.nodeName=' }),
        this.view.refresh(ctx.client, 0),
      ]);
      const now = ctx.now().getTime();
      const waiting = list.items
        .filter(needsScheduling)
        .filter(
          (pod) =>
            pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ||
            now - Date.parse(pod.metadata.creationTimestamp ?? '') > 10_000,
        )
        .sort(
          (a, b) =>
            (b.spec.priority ?? 0) - (a.spec.priority ?? 0) ||
            (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
        );
      await forEachLimited(waiting, this.concurrency, async (pod) => {
        await this.schedule(pod, ctx);
      });
      if (!this.freed) return;
    }
  }
}
