import type { TrackedJob } from '../../../functions/controllers/job/types.js';

/** A Job whose pods the node simulator runs for `runMs` and ends with `exitCode`. */
export function jobManifest(
  name: string,
  spec: { completions?: number; parallelism?: number; backoffLimit?: number },
  pod: { runMs: number; exitCode?: number },
): TrackedJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      ...spec,
      template: {
        metadata: {
          annotations: {
            'sim.lambernetes.io/run-ms': String(pod.runMs),
            'sim.lambernetes.io/exit-code': String(pod.exitCode ?? 0),
          },
        },
        spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] },
      },
    },
  };
}
