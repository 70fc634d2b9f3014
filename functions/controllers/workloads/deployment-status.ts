/**
 * A Deployment's status and conditions (upstream `calculateStatus`, `syncRolloutStatus`,
 * `checkPausedConditions` and the condition helpers of `deploymentutil`), pure. Conditions are changed
 * on a working copy of the status; the controller writes it once, if it differs.
 */
import type { Condition, Deployment, ReplicaSet } from '../../../shared/api/core.js';
import { timestamp } from '../../../shared/api/time.js';
import { desiredReplicas, maxUnavailable, specReplicas } from './rollout.js';

export type DeploymentStatus = NonNullable<Deployment['status']>;

export const Reason = {
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  FailedRSCreate: 'ReplicaSetCreateError',
  NewReplicaSetCreated: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  NewReplicaSetAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export function getCondition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  now: Date,
): Condition {
  const time = timestamp(now);
  return { type, status, lastUpdateTime: time, lastTransitionTime: time, reason, message };
}

/**
 * `SetDeploymentCondition`: nothing when the same status and reason are there already; the transition
 * time kept when only the reason changes; the condition moves to the end, as upstream's list does.
 */
export function setCondition(status: DeploymentStatus, condition: Condition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const conditions = (status.conditions ?? []).filter((c) => c.type !== type);
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
}

const maxInt32 = 2147483647;

export function hasProgressDeadline(d: Deployment): boolean {
  const deadline = d.spec.progressDeadlineSeconds;
  return deadline !== undefined && deadline !== null && deadline !== maxInt32;
}

/**
 * `checkPausedConditions`: Progressing=Unknown with DeploymentPaused or DeploymentResumed when the
 * Deployment is paused or resumed, so the time spent paused never counts against the deadline.
 */
export function markPaused(d: Deployment, status: DeploymentStatus, now: Date): void {
  if (!hasProgressDeadline(d)) return;
  const current = getCondition(status, 'Progressing');
  if (current?.reason === Reason.TimedOut) return;
  const pausedNoted = current?.reason === Reason.Paused;
  if (d.spec.paused && !pausedNoted) {
    setCondition(status, newCondition('Progressing', 'Unknown', Reason.Paused, 'Deployment is paused', now));
  } else if (!d.spec.paused && pausedNoted) {
    setCondition(
      status,
      newCondition('Progressing', 'Unknown', Reason.Resumed, 'Deployment is resumed', now),
    );
  }
}

const total = (sets: readonly ReplicaSet[], of: (rs: ReplicaSet) => number) =>
  sets.reduce((sum, rs) => sum + of(rs), 0);

/**
 * `calculateStatus`: counts from the ReplicaSets' statuses, the conditions so far (`status`), and
 * Available by whether at least desired - maxUnavailable pods are available. Zero counts are left out,
 * as upstream's JSON omits them.
 */
export function calculateStatus(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  status: DeploymentStatus,
  now: Date,
): DeploymentStatus {
  const available = total(allRSs, (rs) => rs.status?.availableReplicas ?? 0);
  const counts = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: total(allRSs, (rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS ? (newRS.status?.replicas ?? 0) : 0,
    readyReplicas: total(allRSs, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total(allRSs, specReplicas) - available),
  };
  const next: DeploymentStatus = {};
  for (const [field, count] of Object.entries(counts) as [keyof typeof counts, number][])
    if (count > 0) next[field] = count;
  if (status.conditions) next.conditions = status.conditions.map((c) => ({ ...c }));
  if (status.collisionCount !== undefined) next.collisionCount = status.collisionCount;
  if (available >= desiredReplicas(d) - maxUnavailable(d)) {
    setCondition(
      next,
      newCondition(
        'Available',
        'True',
        Reason.MinimumReplicasAvailable,
        'Deployment has minimum availability.',
        now,
      ),
    );
  } else {
    setCondition(
      next,
      newCondition(
        'Available',
        'False',
        Reason.MinimumReplicasUnavailable,
        'Deployment does not have minimum availability.',
        now,
      ),
    );
  }
  return next;
}

/** `DeploymentComplete`: every desired pod updated and available, no old ones, generation observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const desired = desiredReplicas(d);
  return (
    (status.updatedReplicas ?? 0) === desired &&
    (status.replicas ?? 0) === desired &&
    (status.availableReplicas ?? 0) === desired &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
  );
}

/** `DeploymentProgressing`: more pods updated, ready or available, or fewer old ones, than before. */
export function deploymentProgressing(before: DeploymentStatus, after: DeploymentStatus): boolean {
  const oldBefore = (before.replicas ?? 0) - (before.updatedReplicas ?? 0);
  const oldAfter = (after.replicas ?? 0) - (after.updatedReplicas ?? 0);
  return (
    (after.updatedReplicas ?? 0) > (before.updatedReplicas ?? 0) ||
    oldAfter < oldBefore ||
    (after.readyReplicas ?? 0) > (before.readyReplicas ?? 0) ||
    (after.availableReplicas ?? 0) > (before.availableReplicas ?? 0)
  );
}

/** `DeploymentTimedOut`: no progress reported for progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(status, 'Progressing');
  if (!condition || condition.reason === Reason.NewReplicaSetAvailable) return false;
  if (condition.reason === Reason.TimedOut) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  return from + (d.spec.progressDeadlineSeconds as number) * 1000 < now.getTime();
}

/**
 * `syncRolloutStatus`: the status after a rollout step, with Progressing telling progress, completion
 * or a passed deadline, and ReplicaFailure copied from the ReplicaSets. `d.status` is the status as
 * read (for progress), `working` the one with this sync's condition changes.
 */
export function rolloutStatus(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  working: DeploymentStatus,
  now: Date,
): DeploymentStatus {
  const next = calculateStatus(allRSs, newRS, d, working, now);
  if (!hasProgressDeadline(d)) removeCondition(next, 'Progressing');
  const current = getCondition(working, 'Progressing');
  const complete =
    next.replicas === next.updatedReplicas && current?.reason === Reason.NewReplicaSetAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const rsName = newRS ? JSON.stringify(newRS.metadata.name) : undefined;
    const name = JSON.stringify(d.metadata.name);
    if (deploymentComplete(d, next)) {
      const message = rsName
        ? `ReplicaSet ${rsName} has successfully progressed.`
        : `Deployment ${name} has successfully progressed.`;
      setCondition(next, newCondition('Progressing', 'True', Reason.NewReplicaSetAvailable, message, now));
    } else if (deploymentProgressing(d.status ?? {}, next)) {
      const message = rsName ? `ReplicaSet ${rsName} is progressing.` : `Deployment ${name} is progressing.`;
      const condition = newCondition('Progressing', 'True', Reason.ReplicaSetUpdated, message, now);
      // Progress refreshes lastUpdateTime even with the same reason (the deadline counts from it).
      if (current) {
        if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(next, 'Progressing');
      }
      setCondition(next, condition);
    } else if (deploymentTimedOut(d, next, now)) {
      const message = rsName
        ? `ReplicaSet ${rsName} has timed out progressing.`
        : `Deployment ${name} has timed out progressing.`;
      setCondition(next, newCondition('Progressing', 'False', Reason.TimedOut, message, now));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(next, failure);
  else removeCondition(next, 'ReplicaFailure');
  return next;
}

/** `getReplicaFailures`: the new ReplicaSet's ReplicaFailure condition, else an old one's. */
function replicaFailure(allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined): Condition | undefined {
  const failureOf = (rs: ReplicaSet | undefined) =>
    rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
  const found = failureOf(newRS) ?? allRSs.map(failureOf).find((c) => c !== undefined);
  if (!found) return undefined;
  return {
    type: 'ReplicaFailure',
    status: found.status,
    ...(found.lastTransitionTime
      ? { lastTransitionTime: found.lastTransitionTime, lastUpdateTime: found.lastTransitionTime }
      : {}),
    ...(found.reason ? { reason: found.reason } : {}),
    ...(found.message ? { message: found.message } : {}),
  };
}

/**
 * `requeueStuckDeployment`: when to look again to notice a passed deadline, if the rollout is neither
 * complete nor timed out.
 */
export function deadlineCheckMs(d: Deployment, status: DeploymentStatus, now: Date): number | undefined {
  const current = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, status) || current.reason === Reason.TimedOut) return undefined;
  const after =
    Date.parse(current.lastUpdateTime ?? '') +
    (d.spec.progressDeadlineSeconds as number) * 1000 -
    now.getTime();
  if (Number.isNaN(after)) return undefined;
  return after < 1000 ? 1000 : after + 1000;
}

/** The same status, as far as a write would change anything. */
export function sameDeploymentStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return JSON.stringify(sorted(a ?? {})) === JSON.stringify(sorted(b));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  return value;
}
