import type { Node, Pod } from '../../shared/api/core.js';

/** A worker as the agent registers it on an m7g.large-like instance (2 vCPU, 8 GiB). */
export function worker(
  name: string,
  instanceId: string,
  options: {
    podCIDR?: string;
    annotations?: Record<string, string>;
    unschedulable?: boolean;
    notReady?: boolean;
  } = {},
): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: '2026-11-22T10:00:00Z',
      labels: { 'kubernetes.io/arch': 'arm64', 'kubernetes.io/hostname': name },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      providerID: `aws:///eu-west-1a/${instanceId}`,
      ...(options.podCIDR ? { podCIDR: options.podCIDR } : {}),
      ...(options.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      allocatable: { cpu: '1930m', memory: '7Gi', pods: '29' },
      conditions: [{ type: 'Ready', status: options.notReady ? 'False' : 'True' }],
    },
  };
}

export function pod(
  name: string,
  options: {
    cpu?: string;
    memory?: string;
    nodeName?: string;
    unschedulable?: boolean;
    daemonSet?: boolean;
    mirror?: boolean;
    deleting?: boolean;
    phase?: 'Running' | 'Succeeded' | 'Pending';
    nodeSelector?: Record<string, string>;
  } = {},
): Pod {
  const requests: Record<string, string> = {};
  if (options.cpu) requests.cpu = options.cpu;
  if (options.memory) requests.memory = options.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(options.daemonSet
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'ds-uid', controller: true },
            ],
          }
        : {}),
      ...(options.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'abc' } } : {}),
      ...(options.deleting ? { deletionTimestamp: '2026-11-22T10:59:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'app', image: 'nginx', resources: { requests } }],
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
    },
    status: {
      phase: options.phase ?? (options.nodeName ? 'Running' : 'Pending'),
      ...(options.unschedulable
        ? {
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: '0/2 nodes are available: 2 Insufficient cpu.',
              },
            ],
          }
        : {}),
    },
  };
}
