/**
 * What a delete request leaves on an object, as kube-apiserver's generic registry decides it: the
 * garbage collector's finalizers for the propagation policy, and a pod's grace period. Pure.
 */
import type { ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/** The garbage collector orphans the dependents, then removes this finalizer. */
export const orphanFinalizer = 'orphan';
/** The garbage collector deletes the dependents first, then removes this finalizer. */
export const foregroundFinalizer = 'foregroundDeletion';

export interface GcDeleteOptions {
  propagationPolicy?: PropagationPolicy;
  /** Deprecated (before propagationPolicy): true orphans, false deletes in the background. */
  orphanDependents?: boolean;
}

/**
 * The policy of a delete that names none (upstream's DefaultGarbageCollectionPolicy): batch/v1 Jobs
 * orphan their pods for backwards compatibility, Events take no part in garbage collection, the rest
 * leave their dependents to the collector in the background.
 */
export function defaultPropagation(type: ResourceType): PropagationPolicy | 'Unsupported' {
  if (type.kind === 'Event') return 'Unsupported';
  if (type.group === 'batch' && type.version === 'v1' && type.kind === 'Job') return 'Orphan';
  return 'Background';
}

function shouldOrphan(
  finalizers: readonly string[],
  options: GcDeleteOptions,
  fallback: PropagationPolicy,
): boolean {
  if (options.orphanDependents !== undefined) return options.orphanDependents;
  if (options.propagationPolicy) return options.propagationPolicy === 'Orphan';
  if (finalizers.includes(orphanFinalizer)) return true;
  if (finalizers.includes(foregroundFinalizer)) return false;
  return fallback === 'Orphan';
}

function shouldDeleteDependentsFirst(finalizers: readonly string[], options: GcDeleteOptions): boolean {
  if (options.orphanDependents !== undefined) return false;
  if (options.propagationPolicy) return options.propagationPolicy === 'Foreground';
  return finalizers.includes(foregroundFinalizer);
}

/**
 * The finalizers an object keeps after a delete request: the others as they are, plus `orphan` or
 * `foregroundDeletion` as the request (or an earlier request, or the kind's default) asks.
 */
export function finalizersAfterDelete(
  finalizers: readonly string[],
  options: GcDeleteOptions,
  policy: PropagationPolicy | 'Unsupported',
): string[] {
  if (policy === 'Unsupported') return [...finalizers];
  const kept = finalizers.filter((f) => f !== orphanFinalizer && f !== foregroundFinalizer);
  if (shouldOrphan(finalizers, options, policy)) kept.push(orphanFinalizer);
  if (shouldDeleteDependentsFirst(finalizers, options)) kept.push(foregroundFinalizer);
  return sameSet(finalizers, kept) ? [...finalizers] : kept;
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/**
 * The seconds a pod's deletion waits for its kubelet: the request's, else the pod's own, else 30; none
 * for a pod no kubelet runs (unscheduled) or whose containers are done (Succeeded, Failed).
 */
export function podGracePeriod(pod: KubernetesObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  return Math.max(0, requested ?? spec.terminationGracePeriodSeconds ?? 30);
}
