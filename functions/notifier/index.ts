import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { nodeQueueName } from '../../shared/queues/node-queue.js';
import { type Controller, keyOf, splitKey } from '../runtime/controller.js';
import type { NodeQueues } from './queues.js';

const nodes = resourceType('nodes');

/** `<node>|<namespace>/<name>`: node names never contain `|`. */
const podKey = (node: string, pod: { namespace?: string | undefined; name: string }) =>
  `${node}|${keyOf(pod)}`;
/** The key of the resync that matches queues to nodes. */
const everyQueue = '*';
/** The key of a Service or EndpointSlice change: every node's proxy and DNS hear of it. */
const everyNode = 'services';

/**
 * The notifier: tells each node's agent, through the node's own SQS queue, about every change to a pod
 * bound to it (or that was: a pod moved or deleted), so agents need no open watch; `notifier-services`
 * tells every node that Services or EndpointSlices changed (one message per node per stream batch,
 * whatever the number of changes in it), for their proxy and DNS. `notifier-queues`
 * creates a node's queue when the Node appears, deletes it when the Node goes, and every 5 minutes
 * matches queues to nodes (the safety net for a missed change).
 */
export function notifierControllers(queues: NodeQueues): Controller[] {
  return [
    {
      name: 'notifier',
      triggers: [
        {
          resource: 'pods',
          keys(change) {
            const targets = new Set<string>();
            for (const pod of [change.before, change.after] as (Pod | undefined)[]) {
              if (pod?.spec?.nodeName) targets.add(podKey(pod.spec.nodeName, change.key));
            }
            return targets;
          },
        },
      ],
      reconcile: async (key, ctx) => {
        const bar = key.indexOf('|');
        const node = key.slice(0, bar);
        const { namespace, name } = splitKey(key.slice(bar + 1));
        if (await queues.notify(node, { namespace: namespace ?? 'default', name })) return undefined;
        // No queue yet: the Node registered a moment ago (its queue is being made) or is gone.
        const found = await ctx.client.find<Node>(nodes, undefined, node);
        if (found) {
          await queues.ensure(found);
          await queues.notify(node, { namespace: namespace ?? 'default', name });
        }
        return undefined;
      },
    },
    {
      name: 'notifier-services',
      triggers: ['services', 'endpointslices.discovery.k8s.io'].map((resource) => ({
        resource,
        keys: () => [everyNode],
      })),
      reconcile: async (_key, ctx) => {
        const { items } = await ctx.client.list<Node>(nodes);
        await Promise.all(items.map((node) => queues.notify(node.metadata.name, { services: true })));
        return undefined;
      },
    },
    {
      name: 'notifier-queues',
      triggers: [
        {
          resource: 'nodes',
          // Created, deleted, or moved to another instance (its queue's owner tag follows).
          keys: (change) =>
            !change.before ||
            !change.exists ||
            (change.before as Node).spec?.providerID !== (change.after as Node).spec?.providerID
              ? [change.key.name]
              : [],
        },
      ],
      reconcile: async (key, ctx) => {
        if (key === everyQueue) {
          const { items } = await ctx.client.list<Node>(nodes);
          const wanted = new Set(items.map((n) => nodeQueueName(queues.prefix, n.metadata.name)));
          for (const url of await queues.list()) {
            if (!wanted.has(url.slice(url.lastIndexOf('/') + 1))) await queues.removeUrl(url);
          }
          for (const node of items) await queues.ensure(node);
          return undefined;
        }
        const node = await ctx.client.find<Node>(nodes, undefined, key);
        if (node) await queues.ensure(node);
        else await queues.remove(key);
        return undefined;
      },
      resync: { intervalMs: 5 * 60_000, keys: async () => [everyQueue] },
    },
  ];
}
