/**
 * Counting finished pods exactly once, as upstream does with `uncountedTerminatedPods` and the
 * `batch.kubernetes.io/job-tracking` finalizer:
 *
 * 1. a finished pod that still has the finalizer goes into `status.uncountedTerminatedPods`
 *    (a compare-and-swap of the status: of two concurrent syncs, one records it);
 * 2. then its finalizer is removed;
 * 3. then a status write moves every uncounted pod that no longer has the finalizer (or is gone)
 *    into `succeeded`/`failed`.
 *
 * A pod enters the uncounted lists only while it has the finalizer and is not in them already, and
 * leaves them only once the finalizer is gone, so it is counted once whatever runs concurrently.
 */
import type { Condition, Pod } from '../../../shared/api/core.js';
import { timestamp } from '../../../shared/api/time.js';
import { completionsReached, findCondition, JobCondition, newCondition } from './conditions.js';
import type { JobEvent } from './decide.js';
import { setCount } from './decide.js';
import { isActive, isTerminating } from './pods.js';
import type { JobStatus } from './types.js';

/** Step 3: the uncounted pods whose finalizer is gone are added to the counters. */
export function countReleased(status: JobStatus, stillTracked: ReadonlySet<string>): JobStatus {
  const next: JobStatus = structuredClone(status);
  const uncounted = next.uncountedTerminatedPods ?? {};
  const keep = (uids: string[] = []) => uids.filter((uid) => stillTracked.has(uid));
  const succeeded = keep(uncounted.succeeded);
  const failed = keep(uncounted.failed);
  setCount(next, 'succeeded', (next.succeeded ?? 0) + (uncounted.succeeded?.length ?? 0) - succeeded.length);
  setCount(next, 'failed', (next.failed ?? 0) + (uncounted.failed?.length ?? 0) - failed.length);
  next.uncountedTerminatedPods = {
    ...(succeeded.length > 0 ? { succeeded } : {}),
    ...(failed.length > 0 ? { failed } : {}),
  };
  return next;
}

/**
 * The final condition, once the interim one is set, every finished pod is counted and none is
 * running or terminating: FailureTarget becomes Failed, SuccessCriteriaMet becomes Complete.
 */
export function finish(
  status: JobStatus,
  pods: readonly Pod[],
  now: Date,
): { status: JobStatus; events: JobEvent[] } | undefined {
  const failure = findCondition(status, JobCondition.FailureTarget);
  const success = findCondition(status, JobCondition.SuccessCriteriaMet);
  const uncounted = status.uncountedTerminatedPods ?? {};
  if (!failure && !success) return undefined;
  if ((uncounted.succeeded?.length ?? 0) > 0 || (uncounted.failed?.length ?? 0) > 0) return undefined;
  if (pods.some((p) => isActive(p) || isTerminating(p))) return undefined;
  const final: Condition = failure
    ? newCondition(
        JobCondition.Failed,
        'True',
        { reason: failure.reason ?? '', message: failure.message ?? '' },
        now,
      )
    : newCondition(JobCondition.Complete, 'True', completionsReached, now);
  const next: JobStatus = {
    ...structuredClone(status),
    conditions: [...(status.conditions ?? []), final],
    ready: 0,
    terminating: 0,
  };
  delete next.active;
  if (!failure) next.completionTime = timestamp(now);
  const event: JobEvent = failure
    ? { type: 'Warning', reason: final.reason as string, message: final.message as string }
    : { type: 'Normal', reason: 'Completed', message: 'Job completed' };
  return { status: next, events: [event] };
}
