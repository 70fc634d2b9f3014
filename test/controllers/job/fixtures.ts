import type { JobStatus, TrackedJob } from '../../../functions/controllers/job/types.js';
import type { Pod } from '../../../shared/api/core.js';

export const now = new Date('2026-01-01T00:10:00Z');

export function job(spec: Partial<TrackedJob['spec']> = {}, status?: JobStatus): TrackedJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'work', namespace: 'default', uid: 'job-uid', resourceVersion: '7' },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

export interface PodOptions {
  phase?: NonNullable<Pod['status']>['phase'];
  ready?: boolean;
  finalizer?: boolean;
  deleting?: boolean;
  /** When it finished (containers' finishedAt). */
  finished?: string;
  node?: string;
}

export function pod(name: string, options: PodOptions = {}): Pod {
  const phase = options.phase ?? 'Running';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(options.finalizer === false ? {} : { finalizers: ['batch.kubernetes.io/job-tracking'] }),
      ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'work', uid: 'job-uid', controller: true },
      ],
    },
    spec: { nodeName: options.node ?? 'sim-a', containers: [{ name: 'c', image: 'busybox' }] },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: (options.ready ?? phase === 'Running') ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'c',
          ready: phase === 'Running',
          restartCount: 0,
          state: options.finished
            ? { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, finishedAt: options.finished } }
            : {},
        },
      ],
    },
  };
}
