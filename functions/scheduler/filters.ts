/**
 * kube-scheduler's filter plugins, in its order (NodeUnschedulable, TaintToleration, NodeAffinity,
 * NodePorts, NodeResourcesFit), with upstream's reason strings. A node fails at its first failing
 * plugin; NodeResourcesFit reports every resource that is short.
 */
import type {
  Node,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  Taint,
  Toleration,
} from '../../shared/api/core.js';
import { resourceAmount } from '../../shared/api/quantity.js';
import type { NodeUsage } from './allocation.js';
import { type PodRequest, portsConflict } from './requests.js';

export const Reason = {
  unschedulable: 'node(s) were unschedulable',
  affinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  tooManyPods: 'Too many pods',
  insufficient: (resource: string) => `Insufficient ${resource}`,
  taint: (taint: Taint) => `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`,
} as const;

/** Why a node cannot take a pod. `resolvable`: evicting pods could make room (upstream's Unschedulable, not …AndUnresolvable). */
export interface NodeFailure {
  reasons: string[];
  resolvable: boolean;
}

export const unschedulableTaintKey = 'node.kubernetes.io/unschedulable';
export const notReadyTaintKey = 'node.kubernetes.io/not-ready';
export const unreachableTaintKey = 'node.kubernetes.io/unreachable';

/** Upstream's `ToleratesTaint`: an empty key with `Exists` tolerates every taint; an empty effect every effect. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  if (!toleration.operator || toleration.operator === 'Equal')
    return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

export function tolerated(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => tolerates(t, taint));
}

/**
 * The node's taints, plus the one the node lifecycle controller puts on a node that is not Ready
 * (`not-ready`) or not heard from (`unreachable`), if it is not there yet: a pod that does not
 * tolerate it is not placed on such a node, as upstream, where the taint is always there.
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const key = ready === 'True' ? undefined : ready === 'Unknown' ? unreachableTaintKey : notReadyTaintKey;
  if (key && !taints.some((t) => t.key === key && t.effect === 'NoSchedule'))
    taints.push({ key, effect: 'NoSchedule' });
  return taints;
}

function labelRequirementMatches(
  requirement: NodeSelectorRequirement,
  labels: Record<string, string>,
): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(value as string);
    case 'NotIn':
      return !present || !values.includes(value as string);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Gt':
    case 'Lt': {
      if (!present || values.length !== 1) return false;
      const actual = parseIntStrict(value as string);
      const bound = parseIntStrict(values[0] as string);
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

function parseIntStrict(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

function fieldRequirementMatches(requirement: NodeSelectorRequirement, node: Node): boolean {
  if (requirement.key !== 'metadata.name') return false;
  const values = requirement.values ?? [];
  if (requirement.operator === 'In') return values.includes(node.metadata.name);
  if (requirement.operator === 'NotIn') return !values.includes(node.metadata.name);
  return false;
}

/** A node selector term: all its requirements hold. An empty term matches no node. */
export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return (
    expressions.every((r) => labelRequirementMatches(r, labels)) &&
    fields.every((r) => fieldRequirementMatches(r, node))
  );
}

/** `spec.nodeSelector` and the required node affinity (any of its terms) both hold. */
export function matchesNodeSelector(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((term) => termMatches(term, node));
}

/** What a node offers pods, in the scheduler's units. */
export interface Allocatable {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
  scalars: Record<string, number>;
}

export function allocatableOf(node: Node): Allocatable {
  const list = node.status?.allocatable ?? node.status?.capacity ?? {};
  const scalars: Record<string, number> = {};
  for (const [name, text] of Object.entries(list)) {
    if (name === 'cpu' || name === 'memory' || name === 'pods') continue;
    scalars[name] = resourceAmount(name, text) ?? 0;
  }
  return {
    cpuMilli: resourceAmount('cpu', list.cpu) ?? 0,
    memoryBytes: resourceAmount('memory', list.memory) ?? 0,
    pods: resourceAmount('pods', list.pods) ?? 0,
    scalars,
  };
}

/** NodeResourcesFit: every resource the pod requests fits beside what is already there. */
export function insufficientResources(
  request: PodRequest,
  usage: NodeUsage,
  allocatable: Allocatable,
): string[] {
  const reasons: string[] = [];
  if (usage.pods + 1 > allocatable.pods) reasons.push(Reason.tooManyPods);
  if (request.cpuMilli > 0 && request.cpuMilli > allocatable.cpuMilli - usage.cpuMilli)
    reasons.push(Reason.insufficient('cpu'));
  if (request.memoryBytes > 0 && request.memoryBytes > allocatable.memoryBytes - usage.memoryBytes)
    reasons.push(Reason.insufficient('memory'));
  for (const [name, amount] of Object.entries(request.scalars)) {
    if (amount > 0 && amount > (allocatable.scalars[name] ?? 0) - (usage.scalars[name] ?? 0))
      reasons.push(Reason.insufficient(name));
  }
  return reasons;
}

/** NodePorts: none of the pod's host ports is taken on the node. */
export function portsFree(request: PodRequest, usage: NodeUsage): boolean {
  return request.hostPorts.every((wanted) => !usage.hostPorts.some((used) => portsConflict(wanted, used)));
}

/** The filters, in upstream's order: `undefined` when the node can take the pod, else why not. */
export function filterNode(
  pod: Pod,
  request: PodRequest,
  node: Node,
  usage: NodeUsage,
  allocatable: Allocatable = allocatableOf(node),
): NodeFailure | undefined {
  if (
    node.spec?.unschedulable &&
    !tolerated(pod.spec.tolerations, { key: unschedulableTaintKey, effect: 'NoSchedule' })
  ) {
    return { reasons: [Reason.unschedulable], resolvable: false };
  }
  const untolerated = effectiveTaints(node).find(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') &&
      !tolerated(pod.spec.tolerations, taint),
  );
  if (untolerated) return { reasons: [Reason.taint(untolerated)], resolvable: false };
  if (!matchesNodeSelector(pod, node)) return { reasons: [Reason.affinity], resolvable: false };
  if (!portsFree(request, usage)) return { reasons: [Reason.ports], resolvable: true };
  const short = insufficientResources(request, usage, allocatable);
  if (short.length > 0) return { reasons: short, resolvable: true };
  return undefined;
}
