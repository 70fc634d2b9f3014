/**
 * The node lifecycle controller: a node whose kubelet stops renewing its Lease (and posting status)
 * for the grace period gets its conditions Unknown; each node gets the taints its conditions call for
 * (`unreachable`/`not-ready` NoExecute ones evict pods, see taint-eviction.ts); the pods of a node
 * that is not Ready are marked not Ready.
 *
 * Nothing changes when a kubelet goes quiet, so each Lease renewal asks to be looked at again when
 * it would expire: the key `<node>@<renewTime>` comes back then, and does nothing if a newer renewal
 * came meanwhile (that one has its own look scheduled), so renewals do not pile up requeues.
 */
import type { Lease, Node, Pod } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import { timestamp } from '../../../shared/api/time.js';
import {
  type Controller,
  type ControllerContext,
  everyObject,
  type ReconcileResult,
} from '../../runtime/controller.js';
import {
  desiredTaints,
  heartbeatDeadline,
  isReady,
  sameTaints,
  silentNodeConditions,
} from './node-health.js';
import { isPodReady, withCondition } from './pod-status.js';
import { pods, podsOnNode, unlessGone } from './pods.js';

const nodes = resourceType('nodes');
const leases = resourceType('leases.coordination.k8s.io');
const leaseNamespace = 'kube-node-lease';

/** Looks again a little after a lease expires, so the expiry is past when it does. */
const expiryMarginMs = 250;

export interface NodeLifecycleOptions {
  gracePeriodMs: number;
  resyncIntervalMs: number;
}

export function nodeLifecycleController(options: NodeLifecycleOptions): Controller {
  return {
    name: 'node-lifecycle',
    triggers: [
      {
        resource: 'leases.coordination.k8s.io',
        keys: (change) => {
          if (change.key.namespace !== leaseNamespace || !change.exists) return [];
          const renewTime = (change.after as Lease | undefined)?.spec?.renewTime;
          return [renewTime ? `${change.key.name}@${renewTime}` : change.key.name];
        },
      },
      { resource: 'nodes', keys: (change) => (change.exists ? [change.key.name] : []) },
    ],
    reconcile: (key, ctx) => {
      const at = key.indexOf('@');
      return at < 0
        ? reconcileNode(key, ctx, options.gracePeriodMs)
        : awaitLeaseExpiry(key.slice(0, at), key.slice(at + 1), ctx, options.gracePeriodMs);
    },
    resync: {
      intervalMs: options.resyncIntervalMs,
      keys: everyObject(nodes),
    },
  };
}

/** After a renewal: look at the node once the lease would have expired, unless it was renewed since. */
async function awaitLeaseExpiry(
  name: string,
  renewTime: string,
  ctx: ControllerContext,
  graceMs: number,
): Promise<ReconcileResult | undefined> {
  const lease = await ctx.client.find<Lease>(leases, leaseNamespace, name);
  if (lease?.spec?.renewTime !== renewTime) return undefined;
  const left = Date.parse(renewTime) + graceMs - ctx.now().getTime();
  if (left > 0) return { requeueAfterMs: left + expiryMarginMs };
  return reconcileNode(name, ctx, graceMs);
}

async function reconcileNode(
  name: string,
  ctx: ControllerContext,
  graceMs: number,
): Promise<ReconcileResult | undefined> {
  let node = await ctx.client.find<Node>(nodes, undefined, name);
  if (!node) return undefined;
  const now = ctx.now();
  const time = timestamp(now);
  if (
    now.getTime() >
    heartbeatDeadline(node, await ctx.client.find<Lease>(leases, leaseNamespace, name), graceMs)
  ) {
    const conditions = silentNodeConditions(node, time);
    if (JSON.stringify(conditions) !== JSON.stringify(node.status?.conditions ?? [])) {
      const wasReady = isReady(node);
      node = await ctx.client.update<Node>(
        nodes,
        { ...node, status: { ...node.status, conditions } },
        'status',
      );
      if (wasReady)
        ctx.events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
  }
  const taints = desiredTaints(node, time);
  if (!sameTaints(taints, node.spec?.taints ?? [])) {
    node = await ctx.client.update<Node>(nodes, { ...node, spec: { ...node.spec, taints } });
  }
  if (!isReady(node)) await markPodsNotReady(ctx, name, time);
  return undefined;
}

/** Upstream's MarkPodsNotReady: the pods of a node that is not Ready are not Ready either. */
async function markPodsNotReady(ctx: ControllerContext, node: string, time: string): Promise<void> {
  for (const pod of (await podsOnNode(ctx.client, node)).filter(isPodReady)) {
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const status = withCondition(pod, { ...ready, type: 'Ready', status: 'False', lastTransitionTime: time });
    if (await unlessGone(ctx.client.update<Pod>(pods, { ...pod, status }, 'status')))
      ctx.events.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
  }
}
