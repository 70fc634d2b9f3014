/**
 * Revision bookkeeping of Deployments (upstream `deploymentutil`): the revision annotations on the
 * Deployment and its ReplicaSets, and which Deployment annotations its new ReplicaSet carries (so
 * `kubectl rollout history` shows `kubernetes.io/change-cause`). Pure.
 */
import type { ReplicaSet } from '../../../shared/api/core.js';
import { pendingAnnotation } from './replicas.js';

export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';

/** `maxRevHistoryLengthInChars`. */
const maxRevisionHistoryChars = 2000;

/** Annotations never copied from a Deployment to its ReplicaSets (upstream's, and our ledger). */
const annotationsToSkip = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  'deprecated.deployment.rollback.to',
  pendingAnnotation,
]);

/** `deploymentutil.Revision`: 0 without the annotation, `undefined` when it is not a number. */
export function revisionOf(rs: { metadata: { annotations?: Record<string, string> } }): number | undefined {
  const value = rs.metadata.annotations?.[revisionAnnotation];
  if (value === undefined) return 0;
  return /^[-+]?\d+$/.test(value) ? Number(value) : undefined;
}

/** `MaxRevision`: the highest revision among the ReplicaSets (those with a bad value skipped). */
export function maxRevision(sets: readonly ReplicaSet[]): number {
  return Math.max(0, ...sets.map(revisionOf).filter((r): r is number => r !== undefined));
}

/**
 * `SetNewReplicaSetAnnotations`: the new ReplicaSet's annotations for this revision. Copies the
 * Deployment's annotations but the skipped ones, raises the revision when lower (keeping the earlier
 * ones in revision-history: a rollback reuses an old ReplicaSet), and on creation sets the replica
 * annotations. Resolves to the annotations, or `undefined` when nothing changes.
 */
export function newReplicaSetAnnotations(
  deploymentAnnotations: Record<string, string> | undefined,
  rsAnnotations: Record<string, string> | undefined,
  newRevision: number,
  replicas?: { desired: number; max: number },
): Record<string, string> | undefined {
  const annotations = { ...rsAnnotations };
  let changed = false;
  for (const [key, value] of Object.entries(deploymentAnnotations ?? {})) {
    if (annotationsToSkip.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const old = annotations[revisionAnnotation];
  const oldRevision = old === undefined ? 0 : /^[-+]?\d+$/.test(old) ? Number(old) : undefined;
  // Upstream gives up on a revision that is not a number, copied annotations and all.
  if (oldRevision === undefined) return undefined;
  if (oldRevision < newRevision) {
    annotations[revisionAnnotation] = String(newRevision);
    changed = true;
    if (old !== undefined) {
      const history = annotations[revisionHistoryAnnotation];
      annotations[revisionHistoryAnnotation] = history ? appendHistory(history, old) : old;
    }
  }
  if (replicas && setReplicasAnnotations(annotations, replicas.desired, replicas.max)) changed = true;
  return changed ? annotations : undefined;
}

/** Appends a revision to revision-history, dropping the oldest ones beyond the length limit. */
function appendHistory(history: string, revision: string): string {
  const revisions = history.split(',');
  let length = history.length + revision.length + 1;
  let start = 0;
  while (length > maxRevisionHistoryChars && start < revisions.length) {
    length -= (revisions[start] as string).length + 1;
    start++;
  }
  if (length > maxRevisionHistoryChars) return history;
  return [...revisions.slice(start), revision].join(',');
}

/** `SetReplicasAnnotations` on a mutable copy; true when it changed anything. */
export function setReplicasAnnotations(
  annotations: Record<string, string>,
  desired: number,
  max: number,
): boolean {
  let changed = false;
  if (annotations[desiredReplicasAnnotation] !== String(desired)) {
    annotations[desiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (annotations[maxReplicasAnnotation] !== String(max)) {
    annotations[maxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}
