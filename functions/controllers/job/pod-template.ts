/** The pod a Job runs: upstream's `GetPodFromTemplate` plus the Job controller's finalizer. */
import type { Pod } from '../../../shared/api/core.js';
import { jobPodLabels, trackingFinalizer } from './labels.js';
import type { TrackedJob } from './types.js';

export function podForJob(job: TrackedJob, name: string): Pod {
  const template = job.spec.template;
  const metadata = template.metadata ?? {};
  const finalizers = (metadata.finalizers as string[] | undefined) ?? [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${job.metadata.name}-`,
      namespace: job.metadata.namespace as string,
      // Upstream's apiserver puts these in the template (unless manualSelector); ours does not yet.
      labels: { ...metadata.labels, ...(job.spec.manualSelector ? {} : jobPodLabels(job)) },
      ...(metadata.annotations ? { annotations: { ...metadata.annotations } } : {}),
      finalizers: finalizers.includes(trackingFinalizer) ? finalizers : [...finalizers, trackingFinalizer],
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: job.metadata.name,
          uid: job.metadata.uid as string,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone(template.spec),
  };
}
