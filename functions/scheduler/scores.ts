/**
 * kube-scheduler's default score plugins that matter without volumes or inter-pod affinity, each 0–100
 * per node and weighted as in its default profile: NodeResourcesFit (least allocated, 1),
 * NodeResourcesBalancedAllocation (1), TaintToleration (PreferNoSchedule, 3), NodeAffinity
 * (preferred terms, 2) and spreading of pods with the same controller (PodTopologySpread's
 * hostname default, simplified to "fewest siblings", 2).
 */
import type { Node, Pod } from '../../shared/api/core.js';
import { controllerOf, type NodeUsage } from './allocation.js';
import { type Allocatable, termMatches, tolerated } from './filters.js';
import type { PodRequest } from './requests.js';

export const maxNodeScore = 100;

export const weights = {
  leastAllocated: 1,
  balancedAllocation: 1,
  taintToleration: 3,
  nodeAffinity: 2,
  spreading: 2,
} as const;

export interface ScoredNode {
  node: Node;
  usage: NodeUsage;
  allocatable: Allocatable;
}

/** `(allocatable - requested) * 100 / allocatable` for CPU and memory (non-zero requests, the pod's included), averaged. */
export function leastAllocated(request: PodRequest, usage: NodeUsage, allocatable: Allocatable): number {
  const one = (requested: number, capacity: number) =>
    capacity <= 0 || requested > capacity
      ? 0
      : Math.floor(((capacity - requested) * maxNodeScore) / capacity);
  const cpu = one(usage.nonZeroCpuMilli + request.nonZero.cpuMilli, allocatable.cpuMilli);
  const memory = one(usage.nonZeroMemoryBytes + request.nonZero.memoryBytes, allocatable.memoryBytes);
  return Math.floor((cpu + memory) / 2);
}

/** Favours nodes whose CPU and memory would be used in the same proportion: `(1 - std) * 100`. */
export function balancedAllocation(request: PodRequest, usage: NodeUsage, allocatable: Allocatable): number {
  const fraction = (requested: number, capacity: number) =>
    capacity <= 0 ? 1 : Math.min(1, requested / capacity);
  const cpu = fraction(usage.cpuMilli + request.cpuMilli, allocatable.cpuMilli);
  const memory = fraction(usage.memoryBytes + request.memoryBytes, allocatable.memoryBytes);
  const std = Math.abs(cpu - memory) / 2;
  return Math.floor((1 - std) * maxNodeScore);
}

/** PreferNoSchedule taints the pod does not tolerate (fewer is better; normalised later). */
export function intolerablePreferNoSchedule(pod: Pod, node: Node): number {
  return (node.spec?.taints ?? []).filter(
    (taint) => taint.effect === 'PreferNoSchedule' && !tolerated(pod.spec.tolerations, taint),
  ).length;
}

/** The summed weights of the preferred node affinity terms the node matches. */
export function preferredAffinity(pod: Pod, node: Node): number {
  const preferred = pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  let sum = 0;
  for (const term of preferred) if (term.weight > 0 && termMatches(term.preference, node)) sum += term.weight;
  return sum;
}

/** Upstream's `DefaultNormalizeScore`: scale to 0–100 by the largest; `reverse` turns fewest into best. */
export function normalize(scores: number[], reverse: boolean): number[] {
  const max = Math.max(0, ...scores);
  if (max === 0) return scores.map(() => (reverse ? maxNodeScore : 0));
  return scores.map((s) => {
    const scaled = Math.floor((maxNodeScore * s) / max);
    return reverse ? maxNodeScore - scaled : scaled;
  });
}

/** The weighted total of every plugin's score for each node, in the order given. */
export function scoreNodes(pod: Pod, request: PodRequest, nodes: readonly ScoredNode[]): number[] {
  const owner = controllerOf(pod);
  const taints = normalize(
    nodes.map((n) => intolerablePreferNoSchedule(pod, n.node)),
    true,
  );
  const affinity = normalize(
    nodes.map((n) => preferredAffinity(pod, n.node)),
    false,
  );
  const siblings = normalize(
    nodes.map((n) => (owner ? (n.usage.owners.get(owner) ?? 0) : 0)),
    true,
  );
  return nodes.map(
    (n, i) =>
      weights.leastAllocated * leastAllocated(request, n.usage, n.allocatable) +
      weights.balancedAllocation * balancedAllocation(request, n.usage, n.allocatable) +
      weights.taintToleration * (taints[i] as number) +
      weights.nodeAffinity * (affinity[i] as number) +
      weights.spreading * (siblings[i] as number),
  );
}
