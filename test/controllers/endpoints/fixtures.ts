import type { Pod, Service } from '../../../shared/api/core.js';

export function service(spec: Service['spec'] = {}, labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', ...(labels ? { labels } : {}) },
    spec: {
      clusterIP: '10.96.0.10',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...spec,
    },
  };
}

export interface PodOptions {
  ip?: string;
  ready?: boolean;
  phase?: NonNullable<Pod['status']>['phase'];
  labels?: Record<string, string>;
  deleting?: boolean;
  node?: string;
  ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[];
}

export function pod(name: string, options: PodOptions = {}): Pod {
  const ready = options.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: options.labels ?? { app: 'web' },
      ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      nodeName: options.node ?? 'sim-a',
      containers: [{ name: 'c', image: 'nginx', ...(options.ports ? { ports: options.ports } : {}) }],
    },
    status: {
      phase: options.phase ?? 'Running',
      ...(options.ip !== ''
        ? { podIP: options.ip ?? '10.244.0.2', podIPs: [{ ip: options.ip ?? '10.244.0.2' }] }
        : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}
