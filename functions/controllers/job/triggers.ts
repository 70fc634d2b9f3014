/** Which Jobs a pod change concerns, and which pods a Job controls. */
import type { Pod } from '../../../shared/api/core.js';
import type { OwnerReference } from '../../../shared/api/types.js';
import type { ObjectChange } from '../../../shared/store/changes.js';
import { jobNameLabel, legacyJobNameLabel } from './labels.js';
import { hasTrackingFinalizer } from './pods.js';

/** The key that reconciles every unfinished Job of a namespace. */
export const everyJob = '*';

export function controllerOf(pod: Pod): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

export function isJobRef(ref: OwnerReference | undefined): ref is OwnerReference {
  return ref?.kind === 'Job' && ref.apiVersion.startsWith('batch/');
}

/**
 * The Job a pod belongs to: its controller if that is a Job; without a controller, the Job that
 * made it (by label), as long as the tracking finalizer still ties the pod to it.
 */
function jobOf(pod: Pod): string | undefined {
  const ref = controllerOf(pod);
  if (ref) return isJobRef(ref) ? ref.name : undefined;
  if (!hasTrackingFinalizer(pod)) return undefined;
  const labels = pod.metadata.labels ?? {};
  return labels[jobNameLabel] ?? labels[legacyJobNameLabel];
}

/**
 * The Jobs of the pod before and after the change. A change without the pod's states (too big for
 * the stream record) cannot say whose pod it was: it wakes every Job of the namespace.
 */
export function jobsOfPod(change: ObjectChange): string[] {
  const namespace = change.key.namespace;
  if (!namespace) return [];
  if (!change.before && !change.after) return [`${namespace}/${everyJob}`];
  const names = [change.before, change.after].map((pod) => (pod ? jobOf(pod as Pod) : undefined));
  return [...new Set(names.filter((name) => name !== undefined))].map((name) => `${namespace}/${name}`);
}
