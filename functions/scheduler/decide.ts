import type { Node, Pod } from '../../shared/api/core.js';
import type { NodeUsage } from './allocation.js';
import { type Allocatable, allocatableOf, filterNode, type NodeFailure } from './filters.js';
import { unschedulableMessage } from './message.js';
import type { PodRequest } from './requests.js';
import { type ScoredNode, scoreNodes } from './scores.js';

/** A node as one decision sees it: the Node and what is already reserved on it. */
export interface NodeState {
  node: Node;
  usage: NodeUsage;
  allocatable?: Allocatable;
}

export type Decision =
  | { kind: 'bind'; node: string; score: number }
  | { kind: 'unschedulable'; message: string; failures: Map<string, NodeFailure> };

/**
 * One scheduling decision, pure: filter every node, score the feasible ones, take the best (ties
 * broken at random, as upstream's selectHost, which also keeps concurrent schedulers from all picking
 * the same node); or say why no node fits.
 */
export function decide(
  pod: Pod,
  request: PodRequest,
  nodes: readonly NodeState[],
  random: () => number = Math.random,
): Decision {
  const feasible: ScoredNode[] = [];
  const failures = new Map<string, NodeFailure>();
  for (const state of nodes) {
    const allocatable = state.allocatable ?? allocatableOf(state.node);
    const failure = filterNode(pod, request, state.node, state.usage, allocatable);
    if (failure) failures.set(state.node.metadata.name, failure);
    else feasible.push({ node: state.node, usage: state.usage, allocatable });
  }
  if (feasible.length === 0) {
    return {
      kind: 'unschedulable',
      message: unschedulableMessage(nodes.length, [...failures.values()]),
      failures,
    };
  }
  const scores = scoreNodes(pod, request, feasible);
  let best = 0;
  let ties = 0;
  for (let i = 0; i < feasible.length; i++) {
    const score = scores[i] as number;
    if (i === 0 || score > (scores[best] as number)) {
      best = i;
      ties = 1;
    } else if (score === scores[best]) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return {
    kind: 'bind',
    node: (feasible[best] as ScoredNode).node.metadata.name,
    score: scores[best] as number,
  };
}
