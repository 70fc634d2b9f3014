/**
 * Which pods upstream's pod garbage collector force-deletes, pure: pods bound to a node that does not
 * exist (for longer than the quarantine), terminating pods on a node that is not Ready and is tainted
 * out-of-service, and terminating pods never scheduled. (Terminated pods over the 12500 threshold
 * are not collected here.)
 */
import type { Condition, Node, Pod } from '../../../shared/api/core.js';
import { isReady, TaintKey } from './node-health.js';

export interface ForcedDeletion {
  pod: Pod;
  /** The DisruptionTarget condition upstream adds first, if any (lastTransitionTime left to the writer). */
  condition?: Condition;
}

/**
 * Upstream deletes a pod of a missing node only if the node is still missing 40 s after it was first
 * seen missing; without that memory, the pod must have been bound to it for that long.
 */
export const orphanQuarantineMs = 40_000;

function boundAt(pod: Pod): number {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  const time = Date.parse(scheduled?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(time) ? 0 : time;
}

export function isOutOfService(node: Node): boolean {
  return !isReady(node) && (node.spec?.taints ?? []).some((t) => t.key === TaintKey.outOfService);
}

/** `nodes` maps each existing node's name to it; `now` in ms since the epoch. */
export function podsToForceDelete(
  pods: readonly Pod[],
  nodes: ReadonlyMap<string, Node>,
  now: number,
): ForcedDeletion[] {
  const out: ForcedDeletion[] = [];
  for (const pod of pods) {
    const nodeName = pod.spec.nodeName;
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    if (!nodeName) {
      if (terminating) out.push({ pod });
      continue;
    }
    const node = nodes.get(nodeName);
    if (!node) {
      if (now - boundAt(pod) < orphanQuarantineMs) continue;
      out.push({
        pod,
        condition: {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByPodGC',
          message: 'PodGC: node no longer exists',
        },
      });
    } else if (terminating && isOutOfService(node)) {
      out.push({ pod });
    }
  }
  return out;
}
