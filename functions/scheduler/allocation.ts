import type { Pod } from '../../shared/api/core.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { PodRequest } from './requests.js';

/**
 * A node's allocation record: every pod the scheduler has reserved room for on the node (and every
 * other pod found running there), by pod uid. It is an internal store object (`nodeallocations`, not
 * served by the API) whose compare-and-swap updates decide which of several concurrent schedulers gets
 * the last room on a node: a reservation is written only if the record, as written, still has room.
 */
export interface AllocationRecord extends KubernetesObject {
  metadata: { name: string; resourceVersion?: string; [field: string]: unknown };
  pods: Record<string, AllocationEntry>;
}

export interface AllocationEntry {
  namespace: string;
  name: string;
  cpuMilli: number;
  memoryBytes: number;
  hostPorts: string[];
  /** When the room was reserved (RFC 3339). A reservation whose pod is not bound to the node after a while has leaked. */
  reservedAt: string;
  /** The uid of the pod's controller (its ReplicaSet, Job…), for spreading its pods across nodes. */
  owner?: string;
  /** Other requested resources (ephemeral-storage, extended resources), when there are any. */
  scalars?: Record<string, number>;
  /** CPU and memory as scoring counts them (non-zero defaults), when they differ from the requests. */
  nonZero?: { cpuMilli: number; memoryBytes: number };
}

export const allocationResource = 'nodeallocations';

export const allocationKey = (node: string) => ({ resource: allocationResource, name: node });

/** How long a reservation may stay unbound before it counts as leaked (a crash between reserve and bind). */
export const reservationTimeoutMs = 30_000;

/** What the pods recorded on one node take together. */
export interface NodeUsage {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
  scalars: Record<string, number>;
  hostPorts: string[];
  nonZeroCpuMilli: number;
  nonZeroMemoryBytes: number;
  /** Pods per controller uid. */
  owners: Map<string, number>;
}

export function emptyUsage(): NodeUsage {
  return {
    cpuMilli: 0,
    memoryBytes: 0,
    pods: 0,
    scalars: {},
    hostPorts: [],
    nonZeroCpuMilli: 0,
    nonZeroMemoryBytes: 0,
    owners: new Map(),
  };
}

/** Adds one entry to a usage (in place). */
export function addEntry(usage: NodeUsage, entry: AllocationEntry): NodeUsage {
  usage.cpuMilli += entry.cpuMilli;
  usage.memoryBytes += entry.memoryBytes;
  usage.pods += 1;
  for (const [name, amount] of Object.entries(entry.scalars ?? {}))
    usage.scalars[name] = (usage.scalars[name] ?? 0) + amount;
  usage.hostPorts.push(...entry.hostPorts);
  usage.nonZeroCpuMilli += entry.nonZero?.cpuMilli ?? entry.cpuMilli;
  usage.nonZeroMemoryBytes += entry.nonZero?.memoryBytes ?? entry.memoryBytes;
  if (entry.owner) usage.owners.set(entry.owner, (usage.owners.get(entry.owner) ?? 0) + 1);
  return usage;
}

export function usageOf(entries: Iterable<AllocationEntry>): NodeUsage {
  const usage = emptyUsage();
  for (const entry of entries) addEntry(usage, entry);
  return usage;
}

/** The uid of the object that controls a pod (its ReplicaSet, StatefulSet, Job…), if any. */
export function controllerOf(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((ref) => ref.controller)?.uid;
}

/** The entry that reserves room for `pod` with `request`. */
export function entryFor(pod: Pod, request: PodRequest, now: Date): AllocationEntry {
  const owner = controllerOf(pod);
  const differs =
    request.nonZero.cpuMilli !== request.cpuMilli || request.nonZero.memoryBytes !== request.memoryBytes;
  return {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    cpuMilli: request.cpuMilli,
    memoryBytes: request.memoryBytes,
    hostPorts: request.hostPorts,
    reservedAt: now.toISOString(),
    ...(owner ? { owner } : {}),
    ...(Object.keys(request.scalars).length > 0 ? { scalars: request.scalars } : {}),
    ...(differs ? { nonZero: request.nonZero } : {}),
  };
}

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * A record brought in line with the pods that exist: `pods` is every pod in the cluster (a snapshot
 * taken after the record was read), `node` the record's node. Entries stay while their pod exists,
 * has not finished, and is bound to this node — or is not bound yet and was reserved less than
 * `reservationTimeoutMs` ago (its scheduler is between reserve and bind). Pods running on the node that
 * no entry accounts for (bound by someone else) are added, whether they fit or not: they are there.
 * Returns the new entries, or `undefined` when nothing changes.
 */
export function syncedEntries(
  record: AllocationRecord | undefined,
  node: string,
  podsByUid: ReadonlyMap<string, Pod>,
  onNode: readonly Pod[],
  entryOf: (pod: Pod) => AllocationEntry,
  now: Date,
): Record<string, AllocationEntry> | undefined {
  const current = record?.pods ?? {};
  const next: Record<string, AllocationEntry> = {};
  let changed = false;
  for (const [uid, entry] of Object.entries(current)) {
    const pod = podsByUid.get(uid);
    const young = now.getTime() - Date.parse(entry.reservedAt) < reservationTimeoutMs;
    const keep =
      pod !== undefined &&
      !isTerminal(pod) &&
      (pod.spec.nodeName === node || (!pod.spec.nodeName && !pod.metadata.deletionTimestamp && young));
    if (keep) next[uid] = entry;
    else changed = true;
  }
  for (const pod of onNode) {
    const uid = pod.metadata.uid;
    if (!uid || uid in next || isTerminal(pod)) continue;
    next[uid] = entryOf(pod);
    changed = true;
  }
  return changed ? next : undefined;
}
