/**
 * The namespace controller's decisions (upstream's namespaced_resources_deleter), pure: the status
 * conditions that say how the deletion of a namespace's content goes, and when to look again.
 */
import type { Condition } from '../../../shared/api/core.js';

/** The finalizer the namespace controller owns in a namespace's spec.finalizers. */
export const kubernetesFinalizer = 'kubernetes';

/** What one pass found of one resource type in the namespace. */
export interface ContentTally {
  resource: string;
  group: string;
  /** Objects still there after the pass (being deleted, or held by finalizers). */
  remaining: number;
  /** Finalizer → how many remaining objects carry it. */
  finalizers: Record<string, number>;
  /** Why deleting some of them failed, if it did. */
  errors: string[];
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): Condition {
  return { type, status, reason, message };
}

/**
 * The namespace's deletion conditions after a pass, as upstream words them; a condition whose status
 * did not change keeps its lastTransitionTime.
 */
export function deletionConditions(
  tallies: readonly ContentTally[],
  existing: readonly Condition[] | undefined,
  now: string,
): Condition[] {
  const errors = tallies.flatMap((t) => t.errors);
  const remaining = tallies
    .filter((t) => t.remaining > 0)
    .map((t) => `${t.resource}.${t.group} has ${t.remaining} resource instances`)
    .sort();
  const finalizerCounts = new Map<string, number>();
  for (const t of tallies)
    for (const [f, n] of Object.entries(t.finalizers))
      finalizerCounts.set(f, (finalizerCounts.get(f) ?? 0) + n);
  const finalizers = [...finalizerCounts].map(([f, n]) => `${f} in ${n} resource instances`).sort();
  const wanted = [
    condition(
      'NamespaceDeletionDiscoveryFailure',
      'False',
      'ResourcesDiscovered',
      'All resources successfully discovered',
    ),
    condition(
      'NamespaceDeletionGroupVersionParsingFailure',
      'False',
      'ParsedGroupVersions',
      'All legacy kube types successfully parsed',
    ),
    errors.length > 0
      ? condition(
          'NamespaceDeletionContentFailure',
          'True',
          'ContentDeletionFailed',
          `Failed to delete all resource types, ${errors.length} remaining: ${errors.join(', ')}`,
        )
      : condition(
          'NamespaceDeletionContentFailure',
          'False',
          'ContentDeleted',
          'All content successfully deleted, may be waiting on finalization',
        ),
    remaining.length > 0
      ? condition(
          'NamespaceContentRemaining',
          'True',
          'SomeResourcesRemain',
          `Some resources are remaining: ${remaining.join(', ')}`,
        )
      : condition('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'),
    finalizers.length > 0
      ? condition(
          'NamespaceFinalizersRemaining',
          'True',
          'SomeFinalizersRemain',
          `Some content in the namespace has finalizers remaining: ${finalizers.join(', ')}`,
        )
      : condition(
          'NamespaceFinalizersRemaining',
          'False',
          'ContentHasNoFinalizers',
          'All content-preserving finalizers finished',
        ),
  ];
  const others = (existing ?? []).filter((c) => !wanted.some((w) => w.type === c.type));
  return [
    ...others,
    ...wanted.map((w) => {
      const before = existing?.find((c) => c.type === w.type);
      const lastTransitionTime = before?.status === w.status ? (before.lastTransitionTime ?? now) : now;
      return { ...w, lastTransitionTime };
    }),
  ];
}

/** The namespace is empty: nothing remains and nothing failed. */
export function contentGone(tallies: readonly ContentTally[]): boolean {
  return tallies.every((t) => t.remaining === 0 && t.errors.length === 0);
}

/**
 * How long to wait before the next pass while content remains: a second at first, then a fifth of
 * the time the namespace has been terminating, at most a minute (content held by a finalizer or a
 * vanished kubelet may stay for long; it must not cost a pass a second).
 */
export function recheckDelayMs(deletionTimestamp: string, now: number): number {
  const elapsed = Math.max(0, now - Date.parse(deletionTimestamp));
  return Math.min(60_000, Math.max(1000, Math.round(elapsed / 5)));
}
