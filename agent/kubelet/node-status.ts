import type { Condition, Node, NodeStatus } from '../../shared/api/core.js';
import { timestamp } from '../../shared/api/time.js';
import type { MachineFacts } from './machine.js';

/** The version the agent reports as its kubelet's (what `kubectl get nodes` shows). */
export const kubeletVersion = 'v1.32.0-lambernetes';

const mi = 1024 * 1024;
/** Upstream's default hard eviction thresholds: below these the node reports pressure. */
const memoryAvailableMinBytes = 100 * mi;
const diskAvailableMinFraction = 0.1;
const pidsAvailableMinFraction = 0.05;

export interface NodeIdentity {
  name: string;
  podCIDR: string;
  providerID?: string;
  labels?: Record<string, string>;
  /** e.g. `docker://28.2.2`, `podman://4.3.1`. */
  containerRuntimeVersion: string;
  /** Pods the node accepts (upstream's default 110). */
  maxPods: number;
  /** Kept back for the system and the agent itself (kube-reserved + system-reserved). */
  reserved: { cpuMilli: number; memoryBytes: number };
  /** The agent's HTTPS port (logs, exec), published in daemonEndpoints. */
  port: number;
}

/** The Node as registered: labels, pod CIDR, provider ID. Status follows through the status subresource. */
export function nodeObject(identity: NodeIdentity, facts: MachineFacts): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: identity.name,
      labels: {
        'kubernetes.io/hostname': identity.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': facts.architecture,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': facts.architecture,
        ...identity.labels,
      },
    },
    spec: {
      podCIDR: identity.podCIDR,
      podCIDRs: [identity.podCIDR],
      ...(identity.providerID ? { providerID: identity.providerID } : {}),
    },
  };
}

const kib = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;

function condition(
  type: string,
  pressing: boolean,
  [reasonTrue, messageTrue]: [string, string],
  [reasonFalse, messageFalse]: [string, string],
): { type: string; status: 'True' | 'False'; reason: string; message: string } {
  return pressing
    ? { type, status: 'True', reason: reasonTrue, message: messageTrue }
    : { type, status: 'False', reason: reasonFalse, message: messageFalse };
}

/**
 * The node's status from what the machine says now: capacity, allocatable (capacity less what is
 * reserved and the memory eviction threshold), the pressure conditions by upstream's default hard
 * eviction thresholds, Ready, addresses and node info. A condition keeps its lastTransitionTime from
 * `previous` while its status stays the same.
 */
export function nodeStatus(
  identity: NodeIdentity,
  facts: MachineFacts,
  now: Date,
  previous?: NodeStatus,
): NodeStatus {
  const stamp = timestamp(now);
  const cpuMilli = facts.cpus * 1000;
  const memoryPressure = facts.memoryAvailableBytes < memoryAvailableMinBytes;
  const diskPressure = facts.diskAvailableBytes < facts.diskBytes * diskAvailableMinFraction;
  const pidPressure = facts.pidMax - facts.pidsInUse < facts.pidMax * pidsAvailableMinFraction;
  const conditions = [
    condition(
      'MemoryPressure',
      memoryPressure,
      ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
      ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ),
    condition(
      'DiskPressure',
      diskPressure,
      ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
      ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ),
    condition(
      'PIDPressure',
      pidPressure,
      ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
      ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ),
    condition('Ready', true, ['KubeletReady', 'kubelet is posting ready status'], ['', '']),
  ].map((c): Condition => {
    const before = previous?.conditions?.find((p) => p.type === c.type);
    const since = before && before.status === c.status ? before.lastTransitionTime : undefined;
    return { ...c, lastHeartbeatTime: stamp, lastTransitionTime: since ?? stamp };
  });
  return {
    capacity: {
      cpu: String(facts.cpus),
      memory: kib(facts.memoryBytes),
      pods: String(identity.maxPods),
      'ephemeral-storage': kib(facts.diskBytes),
    },
    allocatable: {
      cpu: `${Math.max(0, cpuMilli - identity.reserved.cpuMilli)}m`,
      memory: kib(Math.max(0, facts.memoryBytes - identity.reserved.memoryBytes - memoryAvailableMinBytes)),
      pods: String(identity.maxPods),
      'ephemeral-storage': kib(facts.diskBytes * (1 - diskAvailableMinFraction)),
    },
    conditions,
    addresses: [
      { type: 'InternalIP', address: facts.internalIP },
      { type: 'Hostname', address: facts.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: identity.port } },
    nodeInfo: {
      machineID: facts.machineID,
      systemUUID: facts.machineID,
      bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: identity.containerRuntimeVersion,
      kubeletVersion,
      kubeProxyVersion: kubeletVersion,
      operatingSystem: 'linux',
      architecture: facts.architecture,
    },
  };
}

/** Whether two statuses differ in more than their heartbeat times (a change worth posting at once). */
export function statusChanged(a: NodeStatus | undefined, b: NodeStatus): boolean {
  const strip = (status: NodeStatus | undefined) =>
    JSON.stringify({
      ...status,
      conditions: status?.conditions?.map(({ lastHeartbeatTime: _h, ...rest }) => rest),
    });
  return strip(a) !== strip(b);
}
