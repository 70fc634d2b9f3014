/** How the Job controller sees one of its pods (upstream's job controller and podutil helpers). */
import type { ContainerStatus, Pod } from '../../../shared/api/core.js';
import { trackingFinalizer } from './labels.js';

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata.finalizers?.includes(trackingFinalizer) ?? false;
}

export function isSucceeded(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded';
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Neither finished nor being deleted. */
export function isActive(pod: Pod): boolean {
  return !isTerminal(pod) && pod.metadata.deletionTimestamp === undefined;
}

/** Being deleted but not finished (upstream's `terminating` count). */
export function isTerminating(pod: Pod): boolean {
  return !isTerminal(pod) && pod.metadata.deletionTimestamp !== undefined;
}

/**
 * upstream `isPodFailed` with the default podReplacementPolicy: failed, or deleted before it
 * succeeded (so a pod deleted out from under the Job counts as a failure, once).
 */
export function isFailed(pod: Pod): boolean {
  if (pod.status?.phase === 'Failed') return true;
  return pod.metadata.deletionTimestamp !== undefined && pod.status?.phase !== 'Succeeded';
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** When the pod finished: its containers' last finish, else its deletion, else its creation. */
export function finishedAt(pod: Pod): number {
  const finishes = (pod.status?.containerStatuses ?? [])
    .map((c) => (c.state?.terminated as { finishedAt?: string } | undefined)?.finishedAt)
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t));
  if (finishes.length > 0) return Math.max(...finishes);
  return Date.parse(pod.metadata.deletionTimestamp ?? pod.metadata.creationTimestamp ?? '') || 0;
}

/** Sum of container restarts (restartPolicy OnFailure counts these against backoffLimit). */
export function restarts(pod: Pod): number {
  const init = (pod.status?.initContainerStatuses ?? []) as ContainerStatus[];
  return [...init, ...(pod.status?.containerStatuses ?? [])].reduce(
    (sum, s) => sum + (s.restartCount ?? 0),
    0,
  );
}

/**
 * upstream `controller.ActivePods` order, the one pods are deleted in: unscheduled before
 * scheduled, pending before running, not ready before ready, then by name (so that concurrent
 * reconciles pick the same pods).
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const rank = (pod: Pod) => [
    pod.spec.nodeName ? 1 : 0,
    pod.status?.phase === 'Running' ? 1 : 0,
    isReady(pod) ? 1 : 0,
  ];
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}
