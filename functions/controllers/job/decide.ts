/**
 * What one sync of a Job should do, as a pure function of the Job, its pods and the time: upstream
 * job controller's `syncJob` and `manageJob` (NonIndexed completion mode, no pod failure policy).
 */
import type { Condition, Pod } from '../../../shared/api/core.js';
import { timestamp } from '../../../shared/api/time.js';
import {
  backoffLimitExceeded,
  completionsReached,
  deadlineExceeded,
  ensureCondition,
  findCondition,
  JobCondition,
  jobResumed,
  jobSuspended,
  newCondition,
} from './conditions.js';
import {
  deletionOrder,
  finishedAt,
  hasTrackingFinalizer,
  isActive,
  isFailed,
  isReady,
  isSucceeded,
  isTerminating,
  restarts,
} from './pods.js';
import type { JobStatus, TrackedJob } from './types.js';

/** Pods are recreated after failures no sooner than 10 s, 20 s, 40 s… after the last one, at most 10 min. */
export const podFailureBackoffMs = 10_000;
export const maxPodFailureBackoffMs = 10 * 60_000;

export interface JobView {
  job: TrackedJob;
  /** The pods the Job controls. */
  pods: readonly Pod[];
  /** Pods the Job expects (it committed to creating them) that are not among `pods` yet. */
  unseen: number;
  now: Date;
}

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface JobSync {
  /** The status to store before any finalizer is removed: finished pods are in its uncounted lists. */
  status: JobStatus;
  /** New pods to create. */
  create: number;
  /** Whether the expected-but-unseen pods should still be created (no: the Job is stopping). */
  keepExpected: boolean;
  /** Pods whose tracking finalizer goes once `status` is stored. */
  release: Pod[];
  /** Active pods to delete. */
  remove: Pod[];
  requeueAfterMs?: number;
  events: JobEvent[];
}

function backoffLimitOf(job: TrackedJob): number {
  return job.spec.backoffLimit ?? 6;
}

/** upstream `pastBackoffLimitOnFailure`: with OnFailure, container restarts count as failures. */
function pastBackoffLimitOnFailure(job: TrackedJob, pods: readonly Pod[]): boolean {
  if (job.spec.template.spec.restartPolicy !== 'OnFailure') return false;
  const total = pods
    .filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending')
    .reduce((sum, p) => sum + restarts(p), 0);
  const limit = backoffLimitOf(job);
  return limit === 0 ? total > 0 : total >= limit;
}

/** Milliseconds until the deadline (`activeDeadlineSeconds` from startTime), if there is one running. */
function deadlineIn(job: TrackedJob, status: JobStatus, now: Date): number | undefined {
  if (job.spec.activeDeadlineSeconds === undefined || !status.startTime || job.spec.suspend) return undefined;
  return Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now.getTime();
}

/**
 * upstream's pod failure backoff, kept in the pods rather than in memory: the failures since the last
 * success, and how long ago the last one was.
 */
export function backoffRemainingMs(pods: readonly Pod[], now: Date): number {
  const lastSuccess = Math.max(-Infinity, ...pods.filter(isSucceeded).map(finishedAt));
  // Failed pods, and pods deleted before they ended that will be counted as failures (not the ones
  // this controller stopped on purpose: those lost their finalizer first).
  const failures = pods
    .filter((p) => p.status?.phase === 'Failed' || (isTerminating(p) && hasTrackingFinalizer(p)))
    .map(finishedAt);
  const recent = failures.filter((at) => at > lastSuccess);
  if (recent.length === 0) return 0;
  let backoff = podFailureBackoffMs;
  for (let i = 1; i < recent.length && backoff < maxPodFailureBackoffMs; i++) backoff *= 2;
  backoff = Math.min(backoff, maxPodFailureBackoffMs);
  return Math.max(0, backoff - (now.getTime() - Math.max(...recent)));
}

/** How many pods should be running: upstream `manageJob`'s `wantActive`. */
export function wantActive(job: TrackedJob, succeeded: number, active: number): number {
  const parallelism = job.spec.parallelism ?? 1;
  const completions = job.spec.completions;
  // Without completions (a work queue), once one pod succeeded the rest are left to finish.
  if (completions === undefined || completions === null) return succeeded > 0 ? active : parallelism;
  return Math.max(0, Math.min(completions - succeeded, parallelism));
}

export function syncJob({ job, pods, unseen, now }: JobView): JobSync {
  const status: JobStatus = structuredClone(job.status ?? {});
  const uncounted = {
    succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])],
    failed: [...(status.uncountedTerminatedPods?.failed ?? [])],
  };
  const inUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
  // Pods whose end is not yet recorded anywhere: they still carry the finalizer and are not uncounted.
  const tracked = pods.filter((p) => hasTrackingFinalizer(p) && !inUncounted.has(p.metadata.uid as string));
  const succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length + tracked.filter(isSucceeded).length;
  const failed =
    (status.failed ?? 0) +
    uncounted.failed.length +
    tracked.filter((p) => !isSucceeded(p) && isFailed(p)).length;
  const active = pods.filter(isActive);
  const suspended = job.spec.suspend === true;
  const deleting = job.metadata.deletionTimestamp !== undefined;
  const events: JobEvent[] = [];
  let requeueAfterMs: number | undefined;
  const requeue = (ms: number) => {
    requeueAfterMs = Math.min(requeueAfterMs ?? ms, ms);
  };

  if (!status.startTime && !suspended) status.startTime = timestamp(now);

  // Has the Job met its end? Recorded first as an interim condition; the final one comes when its pods are gone.
  let ending: Condition | undefined =
    findCondition(status, JobCondition.FailureTarget) ??
    findCondition(status, JobCondition.SuccessCriteriaMet);
  if (!ending) {
    const deadline = deadlineIn(job, status, now);
    const completions = job.spec.completions;
    if (failed > backoffLimitOf(job) || pastBackoffLimitOnFailure(job, pods))
      ending = newCondition(JobCondition.FailureTarget, 'True', backoffLimitExceeded, now);
    else if (deadline !== undefined && deadline <= 0)
      ending = newCondition(JobCondition.FailureTarget, 'True', deadlineExceeded, now);
    else if (
      completions === undefined || completions === null
        ? succeeded > 0 && active.length + unseen === 0
        : succeeded >= completions
    )
      ending = newCondition(JobCondition.SuccessCriteriaMet, 'True', completionsReached, now);
    else if (deadline !== undefined) requeue(deadline);
    if (ending) ensureCondition(status, ending);
  }

  let create = 0;
  let remove: Pod[] = [];
  let releaseWithoutCounting: Pod[] = [];
  if (ending) {
    // Its remaining pods are stopped, and count as failed.
    remove = active;
  } else if (!deleting && suspended) {
    remove = active;
    releaseWithoutCounting = active;
    if (ensureCondition(status, newCondition(JobCondition.Suspended, 'True', jobSuspended, now)))
      events.push({ type: 'Normal', reason: 'Suspended', message: jobSuspended.message });
  } else if (!deleting) {
    if (ensureCondition(status, newCondition(JobCondition.Suspended, 'False', jobResumed, now))) {
      events.push({ type: 'Normal', reason: 'Resumed', message: jobResumed.message });
      // The deadline counts from the resumption, as upstream resets startTime.
      status.startTime = timestamp(now);
    }
    const want = wantActive(job, succeeded, active.length + unseen);
    const have = active.length + unseen;
    if (have > want) {
      // Stopped for scaling down: not failures, so their finalizers go first and they are not counted.
      remove = [...active].sort(deletionOrder).slice(0, Math.min(have - want, active.length));
      releaseWithoutCounting = remove;
    } else if (have < want) {
      const wait = backoffRemainingMs(pods, now);
      if (wait > 0) requeue(wait);
      else create = want - have;
    }
  }

  // Record every pod that ended (succeeded, failed, or stopped because the Job ended) as uncounted.
  // Pods recorded by an earlier sync that did not get to remove their finalizer are released again.
  const release = pods.filter((p) => hasTrackingFinalizer(p) && inUncounted.has(p.metadata.uid as string));
  for (const pod of tracked) {
    const uid = pod.metadata.uid as string;
    if (isSucceeded(pod)) uncounted.succeeded.push(uid);
    else if (isFailed(pod) || ending) uncounted.failed.push(uid);
    else if (!deleting && !releaseWithoutCounting.includes(pod)) continue;
    release.push(pod);
  }
  status.uncountedTerminatedPods = {
    ...(uncounted.succeeded.length > 0 ? { succeeded: uncounted.succeeded } : {}),
    ...(uncounted.failed.length > 0 ? { failed: uncounted.failed } : {}),
  };
  setCount(status, 'active', active.length + unseen + create - remove.length);
  status.ready = active.filter(isReady).length;
  status.terminating = pods.filter(isTerminating).length;
  return {
    status,
    create,
    keepExpected: !ending && !suspended && !deleting,
    release,
    remove,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    events,
  };
}

/** Counters are left out when zero, as upstream's omitempty leaves them. */
export function setCount(status: JobStatus, field: 'active' | 'succeeded' | 'failed', value: number): void {
  if (value > 0) status[field] = value;
  else delete status[field];
}
