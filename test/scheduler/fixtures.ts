import type { Container, Node, Pod, PodSpec } from '../../shared/api/core.js';

/** A Ready node with the given allocatable resources and labels. */
export function node(
  name: string,
  options: {
    cpu?: string;
    memory?: string;
    pods?: string;
    labels?: Record<string, string>;
    spec?: Node['spec'];
    ready?: 'True' | 'False' | 'Unknown' | null;
    extra?: Record<string, string>;
  } = {},
): Node {
  const allocatable = {
    cpu: options.cpu ?? '4',
    memory: options.memory ?? '8Gi',
    pods: options.pods ?? '110',
    ...options.extra,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...options.labels } },
    spec: options.spec ?? {},
    status: {
      allocatable,
      capacity: allocatable,
      conditions: options.ready === null ? [] : [{ type: 'Ready', status: options.ready ?? 'True' }],
    },
  };
}

/** A pod with one container per request given (`{cpu: '100m'}`), plus any spec fields. */
export function pod(
  name: string,
  requests: Record<string, string>[] = [{}],
  spec: Partial<PodSpec> = {},
  metadata: Partial<Pod['metadata']> = {},
): Pod {
  const containers: Container[] = requests.map((r, i) => ({
    name: `c${i}`,
    image: 'busybox',
    ...(Object.keys(r).length > 0 ? { resources: { requests: r } } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...metadata },
    spec: { containers, ...spec },
  };
}
