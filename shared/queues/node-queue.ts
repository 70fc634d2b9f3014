/**
 * The contract between the notifier (which writes) and each node's agent (which reads): the queue's
 * name for a node, and what a message says.
 */
import { createHash } from 'node:crypto';

/** SQS allows 80 characters of letters, digits, `-` and `_` in a queue name. */
const maxQueueName = 80;

/**
 * The name of a node's queue: `<prefix>node-<node>` with the characters SQS refuses (dots) as `_`;
 * a name too long for SQS keeps its start and ends in a hash of the node's name, so it stays unique.
 */
export function nodeQueueName(prefix: string, node: string): string {
  const name = `${prefix}node-${node.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (name.length <= maxQueueName) return name;
  const hash = createHash('sha256').update(node).digest('hex').slice(0, 10);
  return `${name.slice(0, maxQueueName - hash.length - 1)}-${hash}`;
}

/** The dead-letter queue every node queue redrives to (a notification its agent failed 5 times). */
export const deadLetterQueueName = (prefix: string) => `${prefix}node-dlq`;

/**
 * What the notifier sends: which pod changed, or that Services or EndpointSlices changed (every
 * node's proxy and DNS then list them again). The agent reads the objects itself (level-based).
 */
export type NodeNotification = { namespace: string; name: string } | { services: true };

/** A message body as a notification, or undefined if it is not one. */
export function parseNotification(body: string | undefined): NodeNotification | undefined {
  try {
    const value = JSON.parse(body ?? '') as Record<string, unknown>;
    if (value.services === true) return { services: true };
    if (typeof value.namespace === 'string' && typeof value.name === 'string')
      return { namespace: value.namespace, name: value.name };
  } catch {}
  return undefined;
}

/** SQS's answer for a queue that does not exist (its name differs between the JSON and query protocols). */
export const isMissingQueue = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'QueueDoesNotExist' || error.name === 'AWS.SimpleQueueService.NonExistentQueue');
