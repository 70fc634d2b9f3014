/**
 * What controllers need to know about pods (upstream `podutil` and `controller_utils.go`): whether a
 * pod is active, ready or available, which to delete first, and a new pod from a template. Pure.
 */
import type { Pod, PodTemplateSpec } from '../../../shared/api/core.js';
import type { OwnerReference } from '../../../shared/api/types.js';

/** Not finished and not being deleted (`controller.IsPodActive`). */
export function isActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready (0 when it is not ready or the time is unknown). */
function readySince(pod: Pod): number {
  if (!isReady(pod)) return 0;
  return timeOf(readyCondition(pod)?.lastTransitionTime);
}

function timeOf(timestamp: string | undefined): number {
  const time = timestamp ? Date.parse(timestamp) : Number.NaN;
  return Number.isNaN(time) ? 0 : time;
}

/** Ready for at least `minReadySeconds` (`podutil.IsPodAvailable`). */
export function isAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  if (!isReady(pod)) return false;
  if (minReadySeconds === 0) return true;
  const since = readySince(pod);
  return since !== 0 && since + minReadySeconds * 1000 < now.getTime();
}

/** How long until a ready pod becomes available; `undefined` when it is not ready or already is. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: Date): number | undefined {
  if (!isReady(pod) || isAvailable(pod, minReadySeconds, now)) return undefined;
  const since = readySince(pod);
  return since === 0 ? undefined : Math.max(0, since + minReadySeconds * 1000 - now.getTime());
}

const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

const deletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: Pod): number {
  const value = pod.metadata.annotations?.[deletionCostAnnotation];
  if (value === undefined || !/^[-+]?\d+$/.test(value)) return 0;
  const cost = Number(value);
  return cost >= -(2 ** 31) && cost < 2 ** 31 ? cost : 0;
}

function maxRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((s) => s.restartCount ?? 0));
}

/** `afterOrZero`: a zero time first, then the later one. */
function afterOrZero(a: number, b: number): boolean {
  if (a === 0 || b === 0) return a === 0;
  return a > b;
}

/** `logarithmicRankDiff`: compares the ages' orders of magnitude (log2 of nanoseconds), as upstream. */
function logarithmicRankDiff(a: number, b: number, now: number): number {
  const rank = (t: number) => (now - t > 0 ? Math.trunc(Math.log2((now - t) * 1e6)) : -1);
  return rank(a) - rank(b);
}

function byUid(a: Pod, b: Pod): number {
  const x = a.metadata.uid ?? '';
  const y = b.metadata.uid ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Upstream's `ActivePodsWithRanks.Less` (with LogarithmicScaleDown and PodDeletionCost, both on by
 * default): negative when `a` should be deleted before `b`. Unassigned before assigned, Pending before
 * Unknown before Running, not ready before ready, lower deletion cost first, more pods of the same
 * owner on its node first, ready for less time first, more restarts first, newer first.
 */
function deleteFirst(a: Pod, b: Pod, rankA: number, rankB: number, now: number): number {
  const nodeA = a.spec.nodeName ?? '';
  const nodeB = b.spec.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;
  const phaseA = phaseOrdinal[a.status?.phase ?? ''] ?? 0;
  const phaseB = phaseOrdinal[b.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  if (isReady(a) !== isReady(b)) return isReady(a) ? 1 : -1;
  if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
  if (rankA !== rankB) return rankB - rankA;
  if (isReady(a) && isReady(b)) {
    const readyA = readySince(a);
    const readyB = readySince(b);
    if (readyA !== readyB) {
      if (readyA === 0 || readyB === 0) return afterOrZero(readyA, readyB) ? -1 : 1;
      const diff = logarithmicRankDiff(readyA, readyB, now);
      return diff === 0 ? byUid(a, b) : diff;
    }
  }
  if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(b) - maxRestarts(a);
  const createdA = timeOf(a.metadata.creationTimestamp);
  const createdB = timeOf(b.metadata.creationTimestamp);
  if (createdA !== createdB) {
    if (createdA === 0 || createdB === 0) return afterOrZero(createdA, createdB) ? -1 : 1;
    const diff = logarithmicRankDiff(createdA, createdB, now);
    return diff === 0 ? byUid(a, b) : diff;
  }
  return 0;
}

/**
 * The `count` pods to delete first (upstream `getPodsToDelete`): each pod is ranked by how many active
 * `related` pods (those of the same owner's family) share its node, so doubled-up pods go first.
 */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number, now: Date): Pod[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const pod of related) {
    if (isActive(pod)) onNode.set(pod.spec.nodeName ?? '', (onNode.get(pod.spec.nodeName ?? '') ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => deleteFirst(a.pod, b.pod, a.rank, b.rank, now.getTime()));
  return ranked.slice(0, count).map((r) => r.pod);
}

/**
 * A pod as `controller.GetPodFromTemplate` makes it: the template's labels, annotations, finalizers
 * and spec, `generateName: <owner>-`, and the owner's controller reference. `name` is chosen by the
 * caller (see replicaset.ts for why it is chosen before the create).
 */
export function podFromTemplate(
  template: PodTemplateSpec,
  owner: { name: string; namespace: string },
  ref: OwnerReference,
  name: string,
): Pod {
  const { labels, annotations, finalizers } = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${owner.name}-`,
      namespace: owner.namespace,
      ...(labels ? { labels: { ...labels } } : {}),
      ...(annotations ? { annotations: { ...annotations } } : {}),
      ...(Array.isArray(finalizers) && finalizers.length > 0 ? { finalizers: [...finalizers] } : {}),
      ownerReferences: [ref],
    },
    spec: structuredClone(template.spec),
  };
}
