/**
 * The namespace controller: a namespace being deleted (Terminating, `kubernetes` in spec.finalizers)
 * has everything in it deleted, pass after pass, its status conditions saying what remains; once it
 * is empty the controller removes its finalizer through `namespaces/<name>/finalize`, and the
 * apiserver removes the namespace.
 */
import type { Condition } from '../../../shared/api/core.js';
import { ApiError } from '../../../shared/api/errors.js';
import { type ResourceType, resourceType, resourceTypes } from '../../../shared/api/resources.js';
import { timestamp } from '../../../shared/api/time.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { Controller, ControllerContext, ReconcileResult } from '../../runtime/controller.js';
import {
  type ContentTally,
  contentGone,
  deletionConditions,
  kubernetesFinalizer,
  recheckDelayMs,
} from './namespace-deletion.js';

const namespaces = resourceType('namespaces');

interface Namespace extends KubernetesObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string; conditions?: Condition[] };
}

export function namespaceController(options: { resyncIntervalMs: number }): Controller {
  return {
    name: 'namespace',
    triggers: [
      {
        resource: 'namespaces',
        // Only when deletion begins: the passes then requeue themselves until the namespace is gone.
        keys: (change) => {
          const { before, after } = change as { before?: Namespace; after?: Namespace };
          const begins = !before?.metadata.deletionTimestamp && after?.metadata.deletionTimestamp;
          return change.exists && (!after || begins) ? [change.key.name] : [];
        },
      },
    ],
    reconcile: (name, ctx) => reconcileNamespace(name, ctx),
    resync: {
      intervalMs: options.resyncIntervalMs,
      keys: async (ctx) =>
        (await ctx.client.list<Namespace>(namespaces)).items
          .filter((ns) => ns.metadata.deletionTimestamp)
          .map((ns) => ns.metadata.name),
    },
  };
}

async function reconcileNamespace(
  name: string,
  ctx: ControllerContext,
): Promise<ReconcileResult | undefined> {
  let namespace = await ctx.client.find<Namespace>(namespaces, undefined, name);
  const finalizers = namespace?.spec?.finalizers ?? [];
  if (!namespace?.metadata.deletionTimestamp || !finalizers.includes(kubernetesFinalizer)) return undefined;
  const tallies = await Promise.all(
    resourceTypes.filter((t) => t.namespaced).map((type) => deleteContent(type, name, ctx)),
  );
  const conditions = deletionConditions(tallies, namespace.status?.conditions, timestamp(ctx.now()));
  if (JSON.stringify(conditions) !== JSON.stringify(namespace.status?.conditions ?? [])) {
    namespace = await ctx.client.update<Namespace>(
      namespaces,
      { ...namespace, status: { ...namespace.status, conditions } },
      'status',
    );
  }
  if (!contentGone(tallies)) {
    return {
      requeueAfterMs: recheckDelayMs(namespace.metadata.deletionTimestamp as string, ctx.now().getTime()),
    };
  }
  const spec = { ...namespace.spec, finalizers: finalizers.filter((f) => f !== kubernetesFinalizer) };
  // `finalize` is the namespace subresource for spec.finalizers (the client's type names only status and scale).
  await ctx.client.update(namespaces, { ...namespace, spec }, 'finalize');
  return undefined;
}

/** Deletes what is left of one type in the namespace; tallies what remains after. */
async function deleteContent(
  type: ResourceType,
  namespace: string,
  ctx: ControllerContext,
): Promise<ContentTally> {
  const tally: ContentTally = {
    resource: type.resource,
    group: type.group,
    remaining: 0,
    finalizers: {},
    errors: [],
  };
  let items: KubernetesObject[];
  try {
    items = (await ctx.client.list(type, { namespace })).items;
  } catch (error) {
    tally.errors.push(messageOf(error));
    return tally;
  }
  for (let object of items) {
    if (!object.metadata.deletionTimestamp) {
      try {
        const answer = await ctx.client.delete(type, namespace, object.metadata.name, {
          propagationPolicy: 'Background',
        });
        if (answer.kind === 'Status') continue;
        object = answer as KubernetesObject;
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) continue;
        tally.errors.push(messageOf(error));
      }
    }
    tally.remaining++;
    for (const f of object.metadata.finalizers ?? []) tally.finalizers[f] = (tally.finalizers[f] ?? 0) + 1;
  }
  return tally;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
