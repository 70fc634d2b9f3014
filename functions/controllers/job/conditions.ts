/** Job conditions, with upstream's types, reasons and messages. */
import type { Condition } from '../../../shared/api/core.js';
import { timestamp } from '../../../shared/api/time.js';
import type { JobStatus } from './types.js';

export const JobCondition = {
  Complete: 'Complete',
  Failed: 'Failed',
  Suspended: 'Suspended',
  /** Interim (since 1.31): the Job will fail once its pods are gone. */
  FailureTarget: 'FailureTarget',
  /** Interim (since 1.31): the Job will complete once its pods are gone. */
  SuccessCriteriaMet: 'SuccessCriteriaMet',
} as const;

export const backoffLimitExceeded = {
  reason: 'BackoffLimitExceeded',
  message: 'Job has reached the specified backoff limit',
};
export const deadlineExceeded = {
  reason: 'DeadlineExceeded',
  message: 'Job was active longer than specified deadline',
};
export const jobSuspended = { reason: 'JobSuspended', message: 'Job suspended' };
export const jobResumed = { reason: 'JobResumed', message: 'Job resumed' };
export const completionsReached = {
  reason: 'CompletionsReached',
  message: 'Reached expected number of succeeded pods',
};

export function newCondition(
  type: string,
  status: Condition['status'],
  { reason, message }: { reason: string; message: string },
  now: Date,
): Condition {
  const time = timestamp(now);
  return { type, status, lastProbeTime: time, lastTransitionTime: time, reason, message };
}

export function findCondition(status: JobStatus, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** The Job finished (Complete or Failed): nothing more is done for it. */
export function isFinished(status: JobStatus | undefined): boolean {
  return (
    status !== undefined &&
    (findCondition(status, JobCondition.Complete) !== undefined ||
      findCondition(status, JobCondition.Failed) !== undefined)
  );
}

/**
 * upstream `ensureJobConditionStatus`: sets a condition of this type (a new False one is not added).
 * Returns whether anything changed.
 */
export function ensureCondition(status: JobStatus, condition: Condition): boolean {
  const conditions = status.conditions ?? [];
  const index = conditions.findIndex((c) => c.type === condition.type);
  const current = conditions[index];
  if (current) {
    if (
      current.status === condition.status &&
      current.reason === condition.reason &&
      current.message === condition.message
    )
      return false;
    status.conditions = conditions.map((c, i) => (i === index ? condition : c));
    return true;
  }
  if (condition.status === 'False') return false;
  status.conditions = [...conditions, condition];
  return true;
}
