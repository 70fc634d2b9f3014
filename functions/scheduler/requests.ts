import type { Container, Pod, ResourceList } from '../../shared/api/core.js';
import { resourceAmount } from '../../shared/api/quantity.js';

/** What a pod takes from its node, in the scheduler's units. */
export interface PodRequest {
  cpuMilli: number;
  memoryBytes: number;
  /** Every other requested resource (ephemeral-storage, hugepages, extended resources), in whole units. */
  scalars: Record<string, number>;
  /** CPU and memory with upstream's non-zero defaults (100m, 200Mi) for containers that request none: for scoring only. */
  nonZero: { cpuMilli: number; memoryBytes: number };
  /** `PROTOCOL/hostIP/port` for each host port the pod binds. */
  hostPorts: string[];
}

/** kube-scheduler's defaults for a container without requests, used only when scoring. */
export const defaultCpuMilli = 100;
export const defaultMemoryBytes = 200 * 1024 * 1024;

type Vector = Record<string, number>;

function add(into: Vector, from: Vector): Vector {
  const sum = { ...into };
  for (const [name, amount] of Object.entries(from)) sum[name] = (sum[name] ?? 0) + amount;
  return sum;
}

function max(a: Vector, b: Vector): Vector {
  const result = { ...a };
  for (const [name, amount] of Object.entries(b)) result[name] = Math.max(result[name] ?? 0, amount);
  return result;
}

/** A container's requests; a resource with a limit but no request requests its limit, as the API defaults it. */
function containerVector(container: Container, nonZero: boolean): Vector {
  const requests: ResourceList = {
    ...(container.resources?.limits ?? {}),
    ...(container.resources?.requests ?? {}),
  };
  const vector: Vector = {};
  for (const [name, text] of Object.entries(requests)) {
    const amount = resourceAmount(name, text);
    if (amount !== undefined && amount > 0) vector[name] = amount;
  }
  if (nonZero) {
    if (!('cpu' in requests)) vector.cpu = defaultCpuMilli;
    if (!('memory' in requests)) vector.memory = defaultMemoryBytes;
  }
  return vector;
}

/**
 * The pod's effective requests as kube-scheduler computes them: the sum over its containers, or the
 * largest init container if that is more, with restartable (sidecar) init containers running alongside
 * both; plus the pod's overhead.
 */
function podVector(pod: Pod, nonZero: boolean): Vector {
  let requests: Vector = {};
  for (const container of pod.spec.containers ?? [])
    requests = add(requests, containerVector(container, nonZero));
  let sidecars: Vector = {};
  let initPeak: Vector = {};
  for (const container of pod.spec.initContainers ?? []) {
    const own = containerVector(container, nonZero);
    if (container.restartPolicy === 'Always') {
      requests = add(requests, own);
      sidecars = add(sidecars, own);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(own, sidecars));
    }
  }
  requests = max(requests, initPeak);
  const overhead = pod.spec.overhead as ResourceList | undefined;
  if (overhead) {
    const vector: Vector = {};
    for (const [name, text] of Object.entries(overhead)) {
      const amount = resourceAmount(name, text);
      if (amount !== undefined && amount > 0) vector[name] = amount;
    }
    requests = add(requests, vector);
  }
  return requests;
}

/** The host ports a pod binds: its containers' and its sidecars' `hostPort`s (with host networking, every container port). */
export function hostPortsOf(pod: Pod): string[] {
  const containers = [
    ...(pod.spec.containers ?? []),
    ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  const ports = new Set<string>();
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      const hostPort = port.hostPort ?? (pod.spec.hostNetwork ? port.containerPort : 0);
      if (!hostPort || hostPort <= 0) continue;
      ports.add(`${port.protocol ?? 'TCP'}/${port.hostIP || '0.0.0.0'}/${hostPort}`);
    }
  }
  return [...ports];
}

/** Two host ports clash when protocol and port are the same and either binds every address or both the same one. */
export function portsConflict(a: string, b: string): boolean {
  const [protocolA, ipA, portA] = a.split('/');
  const [protocolB, ipB, portB] = b.split('/');
  if (protocolA !== protocolB || portA !== portB) return false;
  return ipA === ipB || ipA === '0.0.0.0' || ipB === '0.0.0.0';
}

export function podRequest(pod: Pod): PodRequest {
  const { cpu = 0, memory = 0, pods: _pods, ...scalars } = podVector(pod, false);
  const nonZero = podVector(pod, true);
  return {
    cpuMilli: cpu,
    memoryBytes: memory,
    scalars,
    nonZero: { cpuMilli: nonZero.cpu ?? 0, memoryBytes: nonZero.memory ?? 0 },
    hostPorts: hostPortsOf(pod),
  };
}
