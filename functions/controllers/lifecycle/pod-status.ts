/** Pod status changes the lifecycle controllers make before they delete a pod, pure. */
import type { Condition, Pod, PodStatus } from '../../../shared/api/core.js';

/** The pod's status with `condition` in place of any of its type (lastTransitionTime kept if unchanged). */
export function withCondition(pod: Pod, condition: Condition): PodStatus {
  const conditions = pod.status?.conditions ?? [];
  const current = conditions.find((c) => c.type === condition.type);
  const next =
    current && current.status === condition.status
      ? { ...condition, lastTransitionTime: current.lastTransitionTime }
      : condition;
  return {
    ...pod.status,
    conditions: current ? conditions.map((c) => (c === current ? next : c)) : [...conditions, next],
  };
}

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The `DisruptionTarget` condition upstream puts on a pod it is about to delete, and why. */
export function disruptionTarget(reason: string, message: string, now: string): Condition {
  return { type: 'DisruptionTarget', status: 'True', reason, message, lastTransitionTime: now };
}
