/**
 * What the node lifecycle controller decides about one node (upstream node-lifecycle-controller's
 * monitorNodeHealth and tainting passes), pure: whether its kubelet has gone quiet, the conditions it
 * then gets, and the taints its conditions call for.
 */
import type { Condition, Lease, Node, Taint } from '../../../shared/api/core.js';

export const TaintKey = {
  notReady: 'node.kubernetes.io/not-ready',
  unreachable: 'node.kubernetes.io/unreachable',
  unschedulable: 'node.kubernetes.io/unschedulable',
  memoryPressure: 'node.kubernetes.io/memory-pressure',
  diskPressure: 'node.kubernetes.io/disk-pressure',
  pidPressure: 'node.kubernetes.io/pid-pressure',
  networkUnavailable: 'node.kubernetes.io/network-unavailable',
  outOfService: 'node.kubernetes.io/out-of-service',
} as const;

/** The conditions a quiet kubelet leaves Unknown (upstream's remainingNodeConditionTypes). */
const kubeletConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** Condition status → NoSchedule taint (upstream's nodeConditionToTaintKeyStatusMap). */
const conditionTaints: Record<string, Partial<Record<Condition['status'], string>>> = {
  Ready: { False: TaintKey.notReady, Unknown: TaintKey.unreachable },
  MemoryPressure: { True: TaintKey.memoryPressure },
  DiskPressure: { True: TaintKey.diskPressure },
  NetworkUnavailable: { True: TaintKey.networkUnavailable },
  PIDPressure: { True: TaintKey.pidPressure },
};

const managedNoSchedule = new Set<string>([
  ...Object.values(conditionTaints).flatMap((byStatus) => Object.values(byStatus)),
  TaintKey.unschedulable,
]);
const managedNoExecute = new Set<string>([TaintKey.notReady, TaintKey.unreachable]);

export function condition(node: Node, type: string): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

export function isReady(node: Node): boolean {
  return condition(node, 'Ready')?.status === 'True';
}

function millis(time: string | undefined): number | undefined {
  const value = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(value) ? undefined : value;
}

/**
 * The last sign of life of the node's kubelet: the newer of its Lease's renewTime and its Ready
 * condition's lastHeartbeatTime; undefined if it never gave one.
 */
export function lastHeartbeat(node: Node, lease: Lease | undefined): number | undefined {
  const times = [millis(lease?.spec?.renewTime), millis(condition(node, 'Ready')?.lastHeartbeatTime)];
  const known = times.filter((t): t is number => t !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

/**
 * When the node counts as silent unless its kubelet speaks again: the grace period after its last
 * heartbeat (or after its creation, if it never sent one).
 */
export function heartbeatDeadline(node: Node, lease: Lease | undefined, graceMs: number): number {
  const since = lastHeartbeat(node, lease) ?? millis(node.metadata.creationTimestamp) ?? 0;
  return since + graceMs;
}

/**
 * The node's conditions once its kubelet is silent: each kubelet condition Unknown, as upstream's
 * tryUpdateNodeHealth writes them (the ones it never posted are added). Unchanged ones stay as they are.
 */
export function silentNodeConditions(node: Node, now: string): Condition[] {
  const conditions = [...(node.status?.conditions ?? [])];
  for (const type of kubeletConditions) {
    const index = conditions.findIndex((c) => c.type === type);
    const current = conditions[index];
    if (!current) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata.creationTimestamp as string,
        lastTransitionTime: now,
      });
    } else if (current.status !== 'Unknown') {
      conditions[index] = {
        ...current,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastTransitionTime: now,
      };
    }
  }
  return conditions;
}

function isManaged(taint: Taint): boolean {
  if (taint.effect === 'NoSchedule') return managedNoSchedule.has(taint.key);
  return taint.effect === 'NoExecute' && managedNoExecute.has(taint.key);
}

/**
 * The taints the node should have: the ones others set, plus NoSchedule taints for its conditions and
 * spec.unschedulable, plus the NoExecute `not-ready` (Ready=False) or `unreachable` (Ready=Unknown)
 * taint that evicts pods. A NoExecute taint gets `timeAdded` when it appears and keeps it.
 */
export function desiredTaints(node: Node, now: string): Taint[] {
  const existing = node.spec?.taints ?? [];
  const wanted: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = conditionTaints[c.type]?.[c.status];
    if (key) wanted.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) wanted.push({ key: TaintKey.unschedulable, effect: 'NoSchedule' });
  const ready = condition(node, 'Ready')?.status;
  if (ready === 'False') wanted.push({ key: TaintKey.notReady, effect: 'NoExecute', timeAdded: now });
  if (ready === 'Unknown') wanted.push({ key: TaintKey.unreachable, effect: 'NoExecute', timeAdded: now });
  return [
    ...existing.filter((t) => !isManaged(t)),
    ...wanted.map((w) => existing.find((t) => t.key === w.key && t.effect === w.effect) ?? w),
  ];
}

const taintId = (t: Taint) => `${t.key}\0${t.value ?? ''}\0${t.effect}`;

/** The same taints, in any order. */
export function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  const left = new Set(a.map(taintId));
  const right = new Set(b.map(taintId));
  return left.size === right.size && [...left].every((t) => right.has(t));
}
