import type { Deployment, Pod, ReplicaSet } from '../../../shared/api/core.js';

/** A rolling Deployment of `replicas` with the given surge and unavailability. */
export function deployment(
  replicas: number,
  rolling: { maxSurge?: number | string; maxUnavailable?: number | string } = {},
  extra: Partial<Deployment['spec']> = {},
): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%', ...rolling },
      },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...extra,
    },
  };
}

/** A ReplicaSet of that Deployment: its size, and its status' counts (all available by default). */
export function replicaSet(
  name: string,
  replicas: number,
  options: {
    available?: number;
    ready?: number;
    statusReplicas?: number;
    created?: string;
    annotations?: Record<string, string>;
  } = {},
): ReplicaSet {
  const available = options.available ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: `${name}-uid`,
      creationTimestamp: options.created ?? '2024-01-01T00:00:00Z',
      ...(options.annotations ? { annotations: options.annotations } : {}),
      generation: 1,
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: name }] } },
    },
    status: {
      replicas: options.statusReplicas ?? replicas,
      readyReplicas: options.ready ?? available,
      availableReplicas: available,
      observedGeneration: 1,
    },
  };
}

/** A pod; Running and Ready on `node` unless told otherwise. */
export function pod(
  name: string,
  options: {
    node?: string;
    phase?: 'Pending' | 'Running' | 'Unknown' | 'Succeeded' | 'Failed';
    ready?: boolean;
    readySince?: string;
    created?: string;
    restarts?: number;
    cost?: number;
    labels?: Record<string, string>;
  } = {},
): Pod {
  const ready = options.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `${name}-uid`,
      creationTimestamp: options.created ?? '2024-01-01T00:00:00Z',
      labels: options.labels ?? { app: 'web' },
      ...(options.cost !== undefined
        ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(options.cost) } }
        : {}),
    },
    spec: { ...(options.node !== '' ? { nodeName: options.node ?? 'n1' } : {}), containers: [{ name: 'c' }] },
    status: {
      phase: options.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          lastTransitionTime: options.readySince ?? '2024-01-01T00:00:00Z',
        },
      ],
      containerStatuses: [{ name: 'c', ready, restartCount: options.restarts ?? 0 }],
    },
  };
}
