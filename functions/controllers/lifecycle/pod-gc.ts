/**
 * The pod garbage collector (upstream's podgc): force-deletes (grace period 0) the pods no kubelet
 * will ever finish — bound to a deleted node, terminating on an out-of-service node, terminating and
 * never scheduled — after marking them Failed. Woken by node deletions and out-of-service taints, and
 * by a periodic sweep of every pod.
 */
import type { Node, Pod } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import { timestamp } from '../../../shared/api/time.js';
import type { Controller, ControllerContext } from '../../runtime/controller.js';
import { TaintKey } from './node-health.js';
import { type ForcedDeletion, podsToForceDelete } from './pod-gc-policy.js';
import { isTerminal } from './pod-status.js';
import { pods, podsOnNode, unlessGone, updatePodStatus } from './pods.js';

const nodes = resourceType('nodes');

const hasOutOfServiceTaint = (node: Node | undefined) =>
  (node?.spec?.taints ?? []).some((t) => t.key === TaintKey.outOfService);

export function podGarbageCollector(options: { resyncIntervalMs: number }): Controller {
  return {
    name: 'pod-garbage-collector',
    triggers: [
      {
        resource: 'nodes',
        keys: (change) => {
          const { before, after } = change as { before?: Node; after?: Node };
          const tainted = hasOutOfServiceTaint(after) && !hasOutOfServiceTaint(before);
          return !change.exists || tainted ? [`node:${change.key.name}`] : [];
        },
      },
    ],
    reconcile: async (key, ctx) => {
      if (key.startsWith('node:')) {
        const name = key.slice('node:'.length);
        const node = await ctx.client.find<Node>(nodes, undefined, name);
        const bound = await podsOnNode(ctx.client, name);
        await forceDelete(
          podsToForceDelete(bound, nodesByName(node ? [node] : []), ctx.now().getTime()),
          ctx,
        );
      } else {
        const [all, existing] = await Promise.all([ctx.client.list<Pod>(pods), ctx.client.list<Node>(nodes)]);
        await forceDelete(
          podsToForceDelete(all.items, nodesByName(existing.items), ctx.now().getTime()),
          ctx,
        );
      }
      return undefined;
    },
    resync: { intervalMs: options.resyncIntervalMs, keys: async () => ['all'] },
  };
}

function nodesByName(list: readonly Node[]): Map<string, Node> {
  return new Map(list.map((n) => [n.metadata.name, n]));
}

/** As upstream's markFailedAndDeletePod: Failed first (no kubelet will say so), then grace period 0. */
async function forceDelete(deletions: readonly ForcedDeletion[], ctx: ControllerContext): Promise<void> {
  for (const { pod, condition } of deletions) {
    if (!isTerminal(pod)) {
      const marked = condition ? { ...condition, lastTransitionTime: timestamp(ctx.now()) } : undefined;
      if (!(await updatePodStatus(ctx.client, pod, marked, 'Failed'))) continue;
    }
    const { namespace, name, uid } = pod.metadata;
    await unlessGone(
      ctx.client.delete(pods, namespace, name, {
        gracePeriodSeconds: 0,
        preconditions: { uid: uid as string },
      }),
    );
  }
}
