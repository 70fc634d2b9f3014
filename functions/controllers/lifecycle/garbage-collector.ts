/**
 * The garbage collector: objects whose owners (by uid) are all gone are deleted; owners deleted in the
 * foreground (`foregroundDeletion` finalizer) see their dependents deleted first, then lose the
 * finalizer; owners deleted with `orphan` see their dependents' references to them removed, then lose
 * that finalizer.
 *
 * Upstream keeps a graph of every object's owners and dependents; here a change only names keys:
 * - `object:<resource>:<key>`: look at one object (its owners, or its dependents if it is being
 *   deleted in the foreground or orphaning);
 * - `owner-gone:<resource>:<key>`: an object was deleted; find its dependents (by listing each type
 *   that may depend on it, in its namespace) and look at each.
 */
import { ApiError } from '../../../shared/api/errors.js';
import {
  qualifiedResource,
  type ResourceType,
  resourceType,
  resourceTypes,
} from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { ObjectChange } from '../../../shared/store/changes.js';
import type { Controller, ControllerContext, ReconcileResult, Trigger } from '../../runtime/controller.js';
import { keyOf, splitKey } from '../../runtime/controller.js';
import {
  blockingDependents,
  type DependentAction,
  deletionStage,
  dependentAction,
  dependentTypes,
  foregroundFinalizer,
  type OwnerState,
  orphanFinalizer,
  ownerState,
  ownerType,
  referencesTo,
  refersTo,
  withoutOwners,
} from './owners.js';

/** How soon an owner waiting for its dependents looks again if no dependent's deletion wakes it. */
const waitingOwnerRecheckMs = 10_000;

interface Typed {
  type: ResourceType;
  object: KubernetesObject;
}

export function garbageCollector(): Controller {
  return {
    name: 'garbage-collector',
    triggers: resourceTypes.filter((t) => t.kind !== 'Event').map(trigger),
    reconcile: async (key, ctx) => {
      const [verb, resource, ...rest] = key.split(':');
      const type = resourceType(resource as string);
      const { namespace, name } = splitKey(rest.join(':'));
      if (verb === 'owner-gone') {
        await collectDependentsOfGone(type, namespace, name, ctx);
        return undefined;
      }
      return reconcileObject(type, namespace, name, ctx);
    },
  };
}

function trigger(type: ResourceType): Trigger {
  const resource = qualifiedResource(type);
  return {
    resource,
    keys: (change: ObjectChange) => {
      const keys = new Set<string>();
      const { before, after } = change;
      const own = keyOf(change.key);
      if (!change.exists) keys.add(`owner-gone:${resource}:${own}`);
      else if (!after || concernsCollector(before, after)) keys.add(`object:${resource}:${own}`);
      // A foreground deletion waits for the dependents that block it: tell those owners when one goes.
      if (before && (!change.exists || after)) {
        const kept = new Set(
          (change.exists ? (after?.metadata.ownerReferences ?? []) : []).map((r) => r.uid),
        );
        for (const ref of before.metadata.ownerReferences ?? []) {
          const owner = ownerType(ref);
          if (!ref.blockOwnerDeletion || kept.has(ref.uid) || !owner) continue;
          const namespace = owner.namespaced ? change.key.namespace : undefined;
          keys.add(`object:${qualifiedResource(owner)}:${keyOf({ namespace, name: ref.name })}`);
        }
      }
      return keys;
    },
  };
}

/** A change the collector must look at: new or changed owner references, or a GC finalizer's deletion begun. */
function concernsCollector(before: KubernetesObject | undefined, after: KubernetesObject): boolean {
  const refs = after.metadata.ownerReferences ?? [];
  const refsChanged = JSON.stringify(before?.metadata.ownerReferences ?? []) !== JSON.stringify(refs);
  if (refs.length > 0 && (!before || refsChanged)) return true;
  const stage = deletionStage(after);
  const gcStage = stage === 'deletingDependents' || stage === 'orphaningDependents';
  return gcStage && (!before || deletionStage(before) !== stage);
}

async function reconcileObject(
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  ctx: ControllerContext,
): Promise<ReconcileResult | undefined> {
  const object = await ctx.client.find(type, namespace, name);
  if (!object) return undefined;
  switch (deletionStage(object)) {
    case 'deletingDependents':
      return deleteDependents({ type, object }, ctx);
    case 'orphaningDependents':
      await orphanDependents({ type, object }, ctx);
      return undefined;
    case 'live':
      await collect({ type, object }, ctx);
      return undefined;
    default:
      return undefined;
  }
}

/** An object was deleted: every object that named it (of whatever uid) as an owner is looked at. */
async function collectDependentsOfGone(
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  ctx: ControllerContext,
): Promise<void> {
  const dependents = await listDependents(type, namespace, ctx, (object) =>
    (object.metadata.ownerReferences ?? []).some((ref) => refersTo(ref, type, name)),
  );
  await forEachSettled(dependents, (dependent) => collect(dependent, ctx));
}

/** One list per type that may depend on an owner of `type`, filtered. */
async function listDependents(
  type: ResourceType,
  namespace: string | undefined,
  ctx: ControllerContext,
  dependsOn: (object: KubernetesObject) => boolean,
): Promise<Typed[]> {
  const lists = await Promise.all(
    dependentTypes(type).map(async (t) => {
      const { items } = await ctx.client.list(t, type.namespaced ? { namespace: namespace as string } : {});
      return items.filter(dependsOn).map((object) => ({ type: t, object }));
    }),
  );
  return lists.flat();
}

/** Looks at the owners of one object, and deletes it or drops references as they call for. */
async function collect({ type, object }: Typed, ctx: ControllerContext): Promise<void> {
  if (deletionStage(object) !== 'live' || !object.metadata.ownerReferences?.length) return;
  const states = new Map<string, OwnerState>();
  for (const ref of object.metadata.ownerReferences) {
    const owner = ownerType(ref);
    if (!owner) states.set(ref.uid, 'unknown');
    else if (owner.namespaced && !object.metadata.namespace) states.set(ref.uid, 'dangling');
    else {
      const found = await ctx.client.find(
        owner,
        owner.namespaced ? object.metadata.namespace : undefined,
        ref.name,
      );
      states.set(ref.uid, ownerState(ref, found));
    }
  }
  await apply({ type, object }, dependentAction(object, states), ctx);
}

async function apply(
  { type, object }: Typed,
  action: DependentAction,
  ctx: ControllerContext,
): Promise<void> {
  if (action.action === 'unlink') {
    await ignoreGone(unlinkOwners({ type, object }, action.uids, ctx));
  } else if (action.action === 'delete') {
    await deleteDependent({ type, object }, action.propagationPolicy, ctx);
  }
}

/**
 * Deletes with the uid and resourceVersion read as preconditions; if the object changed meanwhile
 * but not its owners, again with the uid alone (as upstream's deleteObject).
 */
async function deleteDependent(
  { type, object }: Typed,
  propagationPolicy: 'Orphan' | 'Background' | 'Foreground',
  ctx: ControllerContext,
): Promise<void> {
  const { namespace, name, uid, resourceVersion } = object.metadata;
  const remove = (preconditions: { uid: string; resourceVersion?: string }) =>
    ignoreGone(ctx.client.delete(type, namespace, name, { propagationPolicy, preconditions }));
  try {
    await remove({ uid: uid as string, resourceVersion: resourceVersion as string });
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 409)) throw error;
    const live = await ctx.client.find(type, namespace, name);
    if (!live || live.metadata.uid !== uid) return;
    const sameOwners =
      JSON.stringify(live.metadata.ownerReferences ?? []) ===
      JSON.stringify(object.metadata.ownerReferences ?? []);
    if (!sameOwners) throw error;
    await remove({ uid: uid as string });
  }
}

/** Removes the references to these owners, if the references are still those read (a JSON patch test). */
async function unlinkOwners({ type, object }: Typed, uids: readonly string[], ctx: ControllerContext) {
  const { namespace, name } = object.metadata;
  const patch = replaceList(
    '/metadata/ownerReferences',
    object.metadata.ownerReferences,
    withoutOwners(object, uids),
  );
  await ctx.client.patch(type, namespace, name, patch, { patchType: 'json' });
}

/** Foreground deletion: delete the dependents; once none blocks the owner, let the owner go. */
async function deleteDependents(owner: Typed, ctx: ControllerContext): Promise<ReconcileResult | undefined> {
  const uid = owner.object.metadata.uid as string;
  const dependents = await listDependents(
    owner.type,
    owner.object.metadata.namespace,
    ctx,
    (object) => referencesTo(object, uid).length > 0,
  );
  await forEachSettled(dependents, (dependent) => collect(dependent, ctx));
  if (
    blockingDependents(
      uid,
      dependents.map((d) => d.object),
    ).length > 0
  ) {
    return { requeueAfterMs: waitingOwnerRecheckMs };
  }
  await ignoreGone(removeFinalizer(owner, foregroundFinalizer, ctx));
  return undefined;
}

/** Orphan deletion: drop every dependent's reference to the owner, then let the owner go. */
async function orphanDependents(owner: Typed, ctx: ControllerContext): Promise<void> {
  const uid = owner.object.metadata.uid as string;
  const dependents = await listDependents(
    owner.type,
    owner.object.metadata.namespace,
    ctx,
    (object) => referencesTo(object, uid).length > 0,
  );
  await forEachSettled(dependents, (dependent) => ignoreGone(unlinkOwners(dependent, [uid], ctx)));
  await ignoreGone(removeFinalizer(owner, orphanFinalizer, ctx));
}

async function removeFinalizer({ type, object }: Typed, finalizer: string, ctx: ControllerContext) {
  const { namespace, name, finalizers = [] } = object.metadata;
  const patch = replaceList(
    '/metadata/finalizers',
    finalizers,
    finalizers.filter((f) => f !== finalizer),
  );
  await ctx.client.patch(type, namespace, name, patch, { patchType: 'json' });
}

/** A JSON patch that replaces a list only if it is still `current` (else 422, and the key is retried). */
function replaceList(path: string, current: unknown, next: readonly unknown[]): unknown[] {
  return [
    { op: 'test', path, value: current },
    next.length > 0 ? { op: 'replace', path, value: next } : { op: 'remove', path },
  ];
}

async function ignoreGone(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  }
}

/** Dependents handled at once: enough to be quick, few enough not to flood the store. */
const concurrency = 8;

/** Runs `work` on each item (all of them, even if some fail); throws the first failure after. */
async function forEachSettled<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length)
      await work(items[next++] as T).catch((error: unknown) => void failures.push(error));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
