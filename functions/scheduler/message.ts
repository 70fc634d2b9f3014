import type { NodeFailure } from './filters.js';

/** Upstream's message when a pod is tried with no nodes in the cluster at all. */
export const noNodesMessage = 'no nodes available to schedule pods';

const notHelpful = 'Preemption is not helpful for scheduling';
const noVictims = 'No preemption victims found for incoming pod';

/** `2 Insufficient cpu, 1 node(s) were unschedulable`: each reason with its count, sorted as Go's `sort.Strings`. */
function histogram(reasons: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts]
    .map(([reason, count]) => `${count} ${reason}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join(', ');
}

/**
 * The `PodScheduled=False` message and `FailedScheduling` event text, as kube-scheduler 1.32 words its
 * FitError: the filter reasons over all nodes, then what preemption found. Preemption is not
 * implemented, so a node that failed on resources or ports (where upstream would look for lower-priority
 * victims) reports that none were found.
 */
export function unschedulableMessage(totalNodes: number, failures: readonly NodeFailure[]): string {
  if (totalNodes === 0) return noNodesMessage;
  const available = `0/${totalNodes} nodes are available`;
  const filters = histogram(failures.flatMap((f) => f.reasons));
  const preemption = histogram(failures.map((f) => (f.resolvable ? noVictims : notHelpful)));
  return `${available}: ${filters}. preemption: ${available}: ${preemption}.`;
}
