/**
 * When a pod on a node with NoExecute taints must go (upstream's taint eviction controller), pure:
 * toleration matching, the default tolerations for an unreachable or not-ready node, and the deadline.
 */
import type { Pod, Taint, Toleration } from '../../../shared/api/core.js';
import { TaintKey } from './node-health.js';

/** Upstream's Toleration.ToleratesTaint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/**
 * The pod's tolerations plus, for `not-ready` and `unreachable` NoExecute taints it says nothing
 * about, one for `defaultSeconds`: what upstream's DefaultTolerationSeconds admission adds to every
 * pod (its test for "says something" is the same: the key, or no key, with NoExecute or no effect).
 */
export function effectiveTolerations(pod: Pod, defaultSeconds: number): Toleration[] {
  const own = pod.spec.tolerations ?? [];
  const implicit = [TaintKey.notReady, TaintKey.unreachable]
    .filter((key) => !own.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute')))
    .map(
      (key): Toleration => ({
        key,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: defaultSeconds,
      }),
    );
  return [...own, ...implicit];
}

export type EvictionDecision = { evict: 'never' } | { evict: 'now' } | { evict: 'at'; at: number };

function millis(time: string | undefined): number | undefined {
  const value = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(value) ? undefined : value;
}

/** When the pod started to live with the node's taints: its binding (or creation). */
function podArrival(pod: Pod): number | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  return millis(scheduled?.lastTransitionTime) ?? millis(pod.metadata.creationTimestamp);
}

/**
 * Whether and when a pod must leave a node with these taints: now if some NoExecute taint is not
 * tolerated; never if none is, or the tolerations used say no tolerationSeconds; otherwise the
 * shortest tolerationSeconds after the pod met the taints (the oldest NoExecute taint's timeAdded, or
 * the pod's arrival if later). The taint manager keeps that clock in memory; here the node carries it.
 */
export function evictionDecision(
  pod: Pod,
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  now: number,
): EvictionDecision {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return { evict: 'never' };
  let seconds: number | undefined;
  for (const taint of noExecute) {
    const used = tolerations.find((t) => tolerates(t, taint));
    if (!used) return { evict: 'now' };
    if (used.tolerationSeconds !== undefined && used.tolerationSeconds !== null)
      seconds = Math.min(seconds ?? Number.POSITIVE_INFINITY, Math.max(0, used.tolerationSeconds));
  }
  if (seconds === undefined) return { evict: 'never' };
  const tainted = Math.min(...noExecute.map((t) => millis(t.timeAdded) ?? now));
  const since = Math.max(tainted, podArrival(pod) ?? tainted);
  const at = since + seconds * 1000;
  return at <= now ? { evict: 'now' } : { evict: 'at', at };
}
