/**
 * Nodes whose instance is gone (upstream's cloud node lifecycle controller), pure: a Node backed by an
 * EC2 instance that is terminated, or that EC2 no longer knows, is deleted. Nodes that are not EC2
 * instances, and instances merely stopped or stopping, are left alone.
 */
import type { Node } from '../../shared/api/core.js';
import { instanceIdOf } from './provider-id.js';

/** DescribeInstances' view of one instance. */
export interface InstanceInfo {
  instanceId: string;
  /** `pending`, `running`, `shutting-down`, `terminated`, `stopping`, `stopped`. */
  state: string;
  sourceDestCheck?: boolean;
}

/** The instance ids the nodes stand for, sorted, once each. */
export function nodeInstanceIds(nodes: readonly Node[]): string[] {
  return [...new Set(nodes.flatMap((node) => instanceIdOf(node) ?? []))].sort();
}

/**
 * The nodes to delete, given what DescribeInstances answered about all of `nodeInstanceIds(nodes)`:
 * those whose instance is terminated or absent from the answer.
 */
export function nodesOfGoneInstances(nodes: readonly Node[], instances: readonly InstanceInfo[]): Node[] {
  const states = new Map(instances.map((i) => [i.instanceId, i.state]));
  return nodes.filter((node) => {
    const id = instanceIdOf(node);
    if (!id || node.metadata.deletionTimestamp) return false;
    const state = states.get(id);
    return state === undefined || state === 'terminated';
  });
}
