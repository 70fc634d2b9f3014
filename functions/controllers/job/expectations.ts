/**
 * Pod creations a Job controller has committed to but not yet seen: upstream keeps these
 * "expectations" in memory, which one leader can do; with no leader, they live on the Job.
 *
 * Before creating pods, a reconcile writes their names into this annotation with a compare-and-swap
 * on the Job: of two reconciles that read the same Job, only one wins the right to create, and the
 * other retries from a fresh read, in which the winner's pods count as active even before they
 * exist. Any reconcile (re)creates the expected pods it does not see (AlreadyExists is fine: the name
 * is fixed), so a crash between the write and the creates loses nothing. A name leaves the list in
 * the first write after a reconcile sees its pod, which is always before the pod's end is counted
 * and its finalizer removed (until then the pod cannot be gone). So a name is created again after
 * its pod is gone only by a reconcile that read the Job before the name left the list and then
 * stalled, between that read and its create, for the whole life of the pod.
 */
import { randomInt } from 'node:crypto';
import type { Pod } from '../../../shared/api/core.js';
import type { TrackedJob } from './types.js';

export const expectedPodsAnnotation = 'batch.lambernetes.io/expected-pods';

export function expectedPods(job: TrackedJob): string[] {
  const value = job.metadata.annotations?.[expectedPodsAnnotation];
  return value ? value.split(',').filter((name) => name !== '') : [];
}

/** The expected names not among the pods seen: still to be created (or in flight). */
export function unseen(expected: readonly string[], pods: readonly Pod[]): string[] {
  const seen = new Set(pods.map((pod) => pod.metadata.name));
  return expected.filter((name) => !seen.has(name));
}

const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** `<job>-xxxxx`, as the apiserver's generateName would name it (prefix cut to 58 characters). */
export function newPodName(job: TrackedJob): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[randomInt(alphabet.length)];
  return `${job.metadata.name.slice(0, 57)}-${suffix}`;
}
