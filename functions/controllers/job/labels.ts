/**
 * The names the Job controller stamps on its pods, and how it finds them again.
 */
import type { LabelSelector } from '../../../shared/api/core.js';
import type { TrackedJob } from './types.js';

/** On every pod of a Job until the pod's end is counted in the Job's status (upstream's scheme). */
export const trackingFinalizer = 'batch.kubernetes.io/job-tracking';
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
export const jobNameLabel = 'batch.kubernetes.io/job-name';
export const legacyControllerUidLabel = 'controller-uid';
export const legacyJobNameLabel = 'job-name';

/** The labels upstream's apiserver adds to a Job's pod template (and selects on) unless manualSelector. */
export function jobPodLabels(job: TrackedJob): Record<string, string> {
  const uid = job.metadata.uid as string;
  return {
    [legacyControllerUidLabel]: uid,
    [controllerUidLabel]: uid,
    [legacyJobNameLabel]: job.metadata.name,
    [jobNameLabel]: job.metadata.name,
  };
}

/**
 * The Job's selector. Upstream's apiserver generates `batch.kubernetes.io/controller-uid=<uid>` when
 * the Job is created without one; ours does not (yet), so the controller falls back to the same.
 */
export function jobSelector(job: TrackedJob): LabelSelector {
  const selector = job.spec.selector;
  const empty = !selector || (!selector.matchLabels && !(selector.matchExpressions ?? []).length);
  return empty ? { matchLabels: { [controllerUidLabel]: job.metadata.uid as string } } : selector;
}

/** A LabelSelector object as a list request's `labelSelector` string. */
export function selectorString(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === 'Exists') terms.push(key);
    else if (operator === 'DoesNotExist') terms.push(`!${key}`);
    else terms.push(`${key} ${operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`);
  }
  return terms.join(',');
}
