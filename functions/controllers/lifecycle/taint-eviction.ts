/**
 * The taint eviction controller (upstream's NoExecuteTaintManager): pods on a node with a NoExecute
 * taint they do not tolerate are deleted through the API, at once or after their tolerationSeconds.
 * Deadlines come back as requeues. Pods deleted on a node whose kubelet is gone stay Terminating, as
 * upstream: only a kubelet (or PodGC, for a deleted or out-of-service node) finishes them.
 */
import type { Node, Pod, Taint } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import { timestamp } from '../../../shared/api/time.js';
import type { Controller, ControllerContext, ReconcileResult } from '../../runtime/controller.js';
import { splitKey } from '../../runtime/controller.js';
import { disruptionTarget } from './pod-status.js';
import { pods, podsOnNode, unlessGone, updatePodStatus } from './pods.js';
import { effectiveTolerations, evictionDecision } from './tolerations.js';

const nodes = resourceType('nodes');

export interface TaintEvictionOptions {
  /** tolerationSeconds for pods that say nothing about not-ready and unreachable nodes. */
  defaultEvictionSeconds: number;
}

function noExecuteTaints(node: Node | undefined): Taint[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}

export function taintEvictionController(options: TaintEvictionOptions): Controller {
  return {
    name: 'taint-eviction',
    triggers: [
      {
        resource: 'nodes',
        keys: (change) => {
          if (!change.exists) return [];
          const { before, after } = change as { before?: Node; after?: Node };
          const changed =
            !before ||
            !after ||
            JSON.stringify(noExecuteTaints(before)) !== JSON.stringify(noExecuteTaints(after));
          return changed ? [`node:${change.key.name}`] : [];
        },
      },
      {
        resource: 'pods',
        keys: (change) => {
          if (!change.exists) return [];
          const { before, after } = change as { before?: Pod; after?: Pod };
          if (after && !after.spec.nodeName) return [];
          const changed =
            !before ||
            !after ||
            before.spec.nodeName !== after.spec.nodeName ||
            JSON.stringify(before.spec.tolerations) !== JSON.stringify(after.spec.tolerations);
          return changed ? [`pod:${change.key.namespace}/${change.key.name}`] : [];
        },
      },
    ],
    reconcile: (key, ctx) =>
      key.startsWith('node:')
        ? reconcileNode(key.slice('node:'.length), ctx, options)
        : reconcilePod(key.slice('pod:'.length), ctx, options),
  };
}

async function reconcileNode(
  name: string,
  ctx: ControllerContext,
  options: TaintEvictionOptions,
): Promise<ReconcileResult | undefined> {
  const taints = noExecuteTaints(await ctx.client.find<Node>(nodes, undefined, name));
  if (taints.length === 0) return undefined;
  return handlePods(await podsOnNode(ctx.client, name), taints, ctx, options);
}

async function reconcilePod(
  key: string,
  ctx: ControllerContext,
  options: TaintEvictionOptions,
): Promise<ReconcileResult | undefined> {
  const { namespace, name } = splitKey(key);
  const pod = await ctx.client.find<Pod>(pods, namespace, name);
  if (!pod?.spec.nodeName) return undefined;
  const taints = noExecuteTaints(await ctx.client.find<Node>(nodes, undefined, pod.spec.nodeName));
  if (taints.length === 0) return undefined;
  return handlePods([pod], taints, ctx, options);
}

/** Evicts the pods whose time is up; asks to come back when the next one's is. */
async function handlePods(
  candidates: readonly Pod[],
  taints: readonly Taint[],
  ctx: ControllerContext,
  options: TaintEvictionOptions,
): Promise<ReconcileResult | undefined> {
  const now = ctx.now().getTime();
  let next: number | undefined;
  for (const pod of candidates) {
    if (pod.metadata.deletionTimestamp) continue;
    const tolerations = effectiveTolerations(pod, options.defaultEvictionSeconds);
    const decision = evictionDecision(pod, taints, tolerations, now);
    if (decision.evict === 'now') await evict(pod, ctx);
    else if (decision.evict === 'at') next = Math.min(next ?? decision.at, decision.at);
  }
  return next === undefined ? undefined : { requeueAfterMs: next - now };
}

/** As the taint manager: mark the pod as a disruption target, then delete it (its own grace period). */
async function evict(pod: Pod, ctx: ControllerContext): Promise<void> {
  const { namespace, name, uid } = pod.metadata;
  const condition = disruptionTarget(
    'DeletionByTaintManager',
    'Taint manager: deleting due to NoExecute taint',
    timestamp(ctx.now()),
  );
  if (!(await updatePodStatus(ctx.client, pod, condition))) return;
  ctx.events.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${name}`);
  await unlessGone(ctx.client.delete(pods, namespace, name, { preconditions: { uid: uid as string } }));
}
