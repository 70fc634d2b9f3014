/**
 * What the cloud controller decides about the size of the worker group (the cluster autoscaler's
 * scale-up estimate and scale-down of empty nodes), pure: no AWS, no API calls.
 *
 * Scale-up: the pods the scheduler found no room for are packed, largest first (first-fit
 * decreasing, as the autoscaler's binpacking estimator), onto the group's Ready nodes, then instances
 * launched but not Ready yet, then new nodes shaped like the group's instance type. The group's
 * desired capacity grows by the new nodes it took, up to its maximum; it is never lowered here.
 *
 * Scale-down: a node of the group with no pods but DaemonSet and mirror pods is stamped
 * `lambernetes.io/empty-since`; once it has been empty for `scaleDownAfterMs` it is drained and its
 * instance terminated, one node at a time, never taking the group below its minimum.
 */
import type { Node, Pod, ResourceList } from '../../shared/api/core.js';
import { addEntry, emptyUsage, entryFor, isTerminal, type NodeUsage } from '../scheduler/allocation.js';
import { allocatableOf, filterNode } from '../scheduler/filters.js';
import { podRequest } from '../scheduler/requests.js';
import { instanceIdOf } from './provider-id.js';

/** When the controller first saw the node empty (RFC 3339); removed when a pod lands on it. */
export const emptySinceAnnotation = 'lambernetes.io/empty-since';
/** When the controller cordoned the node to remove it: a pass continues with this node first. */
export const scaleDownAnnotation = 'lambernetes.io/scale-down';

/** The Auto Scaling group as DescribeAutoScalingGroups reports it. */
export interface GroupState {
  min: number;
  max: number;
  desired: number;
  /** The group's instances and their lifecycle state (`Pending`, `InService`, `Terminating`…). */
  instances: { instanceId: string; lifecycleState: string }[];
}

/** What a new node of the group looks like to the scheduler. */
export interface NodeTemplate {
  /** The instance type's allocatable (cpu, memory, pods, …) as the agent reports it. */
  allocatable: ResourceList;
  /** The labels a new node registers with (kubernetes.io/arch, node.kubernetes.io/instance-type…). */
  labels?: Record<string, string>;
}

/** `PodScheduled=False` with reason `Unschedulable`, not bound, not finished, not being deleted. */
export function isUnschedulable(pod: Pod): boolean {
  if (pod.spec.nodeName || pod.metadata.deletionTimestamp || isTerminal(pod)) return false;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable';
}

export function isDaemonSetPod(pod: Pod): boolean {
  return (pod.metadata.ownerReferences ?? []).some((ref) => ref.controller && ref.kind === 'DaemonSet');
}

/** A static pod's mirror: the kubelet owns it, draining cannot move it. */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;
}

/** A pod that keeps its node busy: not finished, not a DaemonSet's, not a mirror pod. */
export function occupies(pod: Pod): boolean {
  return !isTerminal(pod) && !isDaemonSetPod(pod) && !isMirrorPod(pod);
}

/** The nodes whose instance is one of the group's. */
export function groupNodes(nodes: readonly Node[], group: GroupState): Node[] {
  const ids = new Set(group.instances.map((i) => i.instanceId));
  return nodes.filter((node) => {
    const id = instanceIdOf(node);
    return id !== undefined && ids.has(id);
  });
}

export interface ScaleUpDecision {
  /** The desired capacity to set; equal to `group.desired` when nothing changes. */
  desired: number;
  /** New nodes the pods need beyond the desired capacity (before the maximum cuts them). */
  wanted: number;
  /** Pods that would not fit even on an empty new node: scaling does not help them. */
  unfittable: Pod[];
}

/** A Node built from the template, for the scheduler's filters. */
export function templateNode(template: NodeTemplate): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'template', labels: { ...template.labels } },
    spec: {},
    // Ready: it stands for the node once it has joined.
    status: {
      allocatable: template.allocatable,
      capacity: template.allocatable,
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

/** Sort key: the larger request (relative to the node) first. */
function size(pod: Pod, node: Node): number {
  const request = podRequest(pod);
  const allocatable = allocatableOf(node);
  const cpu = allocatable.cpuMilli > 0 ? request.cpuMilli / allocatable.cpuMilli : 0;
  const memory = allocatable.memoryBytes > 0 ? request.memoryBytes / allocatable.memoryBytes : 0;
  return Math.max(cpu, memory);
}

/** A node the estimate may place pods on, and what is already there. */
interface Bin {
  node: Node;
  usage: NodeUsage;
}

function usageOn(node: string, pods: readonly Pod[], now: Date): NodeUsage {
  const usage = emptyUsage();
  for (const pod of pods) {
    if (pod.spec.nodeName === node && !isTerminal(pod)) addEntry(usage, entryFor(pod, podRequest(pod), now));
  }
  return usage;
}

/**
 * The desired capacity the unschedulable pods call for, packing them (largest first) onto:
 * 1. the group's Ready nodes as they are now, so a pod the scheduler has not retried since a node
 *    joined does not call for another one (upstream's filter-out-schedulable);
 * 2. instances launched but not Ready yet (`group.desired` minus the Ready nodes), as new nodes;
 * 3. new nodes, each counted against the desired capacity.
 * New nodes start with the DaemonSet pods a Ready node of the group runs.
 */
export function scaleUp(input: {
  pending: readonly Pod[];
  group: GroupState;
  /** The group's nodes (see `groupNodes`). */
  members: readonly Node[];
  /** Every pod: what the members already run, and the DaemonSet pods a new node will get. */
  pods: readonly Pod[];
  template: NodeTemplate;
  now: Date;
}): ScaleUpDecision {
  const { group, now } = input;
  const node = templateNode(input.template);
  const ready = input.members.filter(
    (member) => member.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
  );
  const daemons = ready[0]
    ? input.pods.filter((pod) => pod.spec.nodeName === ready[0]?.metadata.name && isDaemonSetPod(pod))
    : [];
  const fresh = (): Bin => {
    const usage = emptyUsage();
    for (const pod of daemons) addEntry(usage, entryFor(pod, podRequest(pod), now));
    return { node, usage };
  };
  const unfittable: Pod[] = [];
  const fittable: Pod[] = [];
  for (const pod of input.pending) {
    const fits = filterNode(pod, podRequest(pod), node, fresh().usage) === undefined;
    (fits ? fittable : unfittable).push(pod);
  }
  const ordered = fittable
    .map((pod) => ({ pod, size: size(pod, node) }))
    .sort((a, b) => b.size - a.size || compare(a.pod.metadata.name, b.pod.metadata.name));
  const upcoming = Math.max(0, group.desired - ready.length);
  const bins: Bin[] = [
    ...ready.map((member) => ({ node: member, usage: usageOn(member.metadata.name, input.pods, now) })),
    ...Array.from({ length: upcoming }, fresh),
  ];
  let opened = 0;
  for (const { pod } of ordered) {
    const request = podRequest(pod);
    const entry = entryFor(pod, request, now);
    const bin = bins.find((b) => filterNode(pod, request, b.node, b.usage) === undefined);
    if (bin) {
      addEntry(bin.usage, entry);
      continue;
    }
    const added = fresh();
    addEntry(added.usage, entry);
    bins.push(added);
    opened += 1;
  }
  const desired = Math.max(group.desired, Math.min(group.max, group.desired + opened));
  return { desired, wanted: opened, unfittable };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The `empty-since` annotation each group node should carry: a time while empty, none otherwise. */
export function emptySinceChanges(
  nodes: readonly Node[],
  pods: readonly Pod[],
  now: string,
): { node: string; emptySince: string | null }[] {
  const busy = new Set(
    pods.filter(occupies).flatMap((pod) => (pod.spec.nodeName ? [pod.spec.nodeName] : [])),
  );
  const changes: { node: string; emptySince: string | null }[] = [];
  for (const node of nodes) {
    const stamped = node.metadata.annotations?.[emptySinceAnnotation];
    const empty = !busy.has(node.metadata.name);
    if (empty && stamped === undefined) changes.push({ node: node.metadata.name, emptySince: now });
    if (!empty && stamped !== undefined) changes.push({ node: node.metadata.name, emptySince: null });
  }
  return changes;
}

function millis(time: string | undefined): number | undefined {
  const value = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(value) ? undefined : value;
}

/**
 * The node to drain and remove, if any: one already being removed (`scale-down` annotation) first;
 * else the group node empty for longest, once empty for `scaleDownAfterMs`. None while pods wait for
 * room (they may want this node) or when the group is at its minimum.
 */
export function scaleDownCandidate(input: {
  nodes: readonly Node[];
  pods: readonly Pod[];
  group: GroupState;
  pendingPods: number;
  scaleDownAfterMs: number;
  now: Date;
}): Node | undefined {
  const { group } = input;
  const inService = new Set(
    group.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId),
  );
  const members = input.nodes.filter((node) => inService.has(instanceIdOf(node) ?? ''));
  const draining = members
    .filter((node) => node.metadata.annotations?.[scaleDownAnnotation] !== undefined)
    .sort(byName);
  if (draining[0]) return draining[0];
  if (input.pendingPods > 0 || group.desired <= group.min) return undefined;
  const busy = new Set(input.pods.filter(occupies).map((pod) => pod.spec.nodeName));
  const cutoff = input.now.getTime() - input.scaleDownAfterMs;
  return members
    .map((node) => ({ node, since: millis(node.metadata.annotations?.[emptySinceAnnotation]) }))
    .filter(
      (c): c is { node: Node; since: number } =>
        c.since !== undefined && c.since <= cutoff && !busy.has(c.node.metadata.name),
    )
    .sort((a, b) => a.since - b.since || byName(a.node, b.node))[0]?.node;
}

function byName(a: Node, b: Node): number {
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** The pods to evict before the node's instance goes: every one that occupies it. */
export function podsToEvict(pods: readonly Pod[], node: string): Pod[] {
  return pods.filter((pod) => pod.spec.nodeName === node && occupies(pod) && !pod.metadata.deletionTimestamp);
}
