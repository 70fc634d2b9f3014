/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods of the template, adopts matching
 * orphans and releases pods it no longer selects, and reports status.
 *
 * Concurrency. Upstream's controller is a single process that remembers, between syncs, how many
 * creations and deletions it has issued and not yet seen ("expectations"). Here any number of
 * reconciles of one ReplicaSet may run at once, in different Lambda invocations, so that memory lives
 * in the ReplicaSet itself: the annotation `replicaset.lambernetes.io/pending` is a ledger of the pod
 * names to create and the pods (name and uid) to delete that a sync has decided on but no sync has yet
 * seen done. A sync
 *   1. reads the ReplicaSet, then lists the pods (in that order, so any ledger entry a sync has
 *      settled is visible in the list);
 *   2. counts pending creations as pods and pending deletions as gone, and decides the difference;
 *   3. writes the new ledger with a compare-and-swap on the ReplicaSet's resourceVersion, and only then
 *      creates the named pods (and deletes the chosen ones).
 * Of two syncs that read the same version, one loses the swap (409) and starts again from the new
 * ledger, where the winner's decisions already count. A pod is created under a name chosen before the
 * create (as the apiserver would choose it from `generateName: <rs>-`), so the create is idempotent:
 * any sync that finds a pending name missing creates it, and a second create of one name is
 * AlreadyExists. Duplicates are therefore impossible, and a sync that dies after the swap leaves work
 * the next sync finishes. An entry leaves the ledger once a sync sees the pod exist (or, for deletions,
 * be gone or terminating). The price is one more write of the ReplicaSet per batch of creations or
 * deletions, and pod names that the controller, not the apiserver, draws from the same alphabet.
 */
import type { Pod, ReplicaSet } from '../../../shared/api/core.js';
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { ApiClient } from '../../../shared/client/client.js';
import type { ObjectChange } from '../../../shared/store/changes.js';
import {
  type Controller,
  type ControllerContext,
  everyObject,
  ownKey,
  type ReconcileResult,
  splitKey,
} from '../../runtime/controller.js';
import { adopt, claim, controllerOf, controllerRef, release } from './ownership.js';
import { isActive, podFromTemplate } from './pods.js';
import {
  generatedName,
  type Ledger,
  ledgerValue,
  needsSync,
  nextAvailabilityMs,
  parseLedger,
  pendingAnnotation,
  planReplicas,
  type ReplicaFailure,
  type ReplicaPlan,
  replicaSetStatus,
  sameLedger,
  sameStatus,
} from './replicas.js';
import { selectorMatcher } from './selector.js';
import { retryOnConflict, sweepName, syncEach } from './sync.js';

const replicaSets = resourceType('replicasets.apps');
const pods = resourceType('pods');

export const replicaSetResyncMs = 5 * 60_000;

/** Keys a pod change asks the ReplicaSet controller to look at. */
export function podChangeKeys(change: ObjectChange): string[] {
  const namespace = change.key.namespace as string;
  if (!change.before && !change.after) return [`${namespace}/${sweepName}`];
  const keys = new Set<string>();
  for (const pod of [change.before, change.after]) {
    const ref = controllerOf(pod);
    if (ref?.kind === 'ReplicaSet' && ref.apiVersion.startsWith('apps/'))
      keys.add(`${namespace}/${ref.name}`);
  }
  // An active orphan with labels may be adopted by any ReplicaSet of its namespace.
  const after = change.after as Pod | undefined;
  if (after && !controllerOf(after) && after.metadata.labels && isActive(after))
    keys.add(`${namespace}/${sweepName}`);
  return [...keys];
}

export function replicaSetController(): Controller {
  return {
    name: 'replicaset-controller',
    triggers: [ownKey('replicasets.apps'), { resource: 'pods', keys: podChangeKeys }],
    reconcile: (key, ctx) => {
      const { namespace, name } = splitKey(key);
      if (!namespace) return Promise.resolve(undefined);
      if (name === sweepName) return sweepNamespace(ctx, namespace);
      return retryOnConflict(() => syncReplicaSet(ctx, namespace, name));
    },
    resync: {
      intervalMs: replicaSetResyncMs,
      keys: everyObject(replicaSets),
    },
  };
}

/** One sync of one ReplicaSet (upstream `syncReplicaSet`). */
export async function syncReplicaSet(
  ctx: ControllerContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult | undefined> {
  const rs = await ctx.client.find<ReplicaSet>(replicaSets, namespace, name);
  if (!rs) return undefined;
  // Listed after the ReplicaSet is read: see the comment at the top.
  const all = (await ctx.client.list<Pod>(pods, { namespace })).items;
  const owned = await claimPods(ctx.client, rs, all);
  const now = ctx.now();

  let current = rs;
  let mine = owned;
  let failure: ReplicaFailure | undefined;
  if (!rs.metadata.deletionTimestamp) {
    const ledger = parseLedger(rs);
    const plan = planReplicas({
      replicas: rs.spec.replicas ?? 1,
      ledger,
      active: owned,
      existing: new Set(all.map((pod) => pod.metadata.name)),
      related: owned.length > (rs.spec.replicas ?? 1) ? await relatedPods(ctx.client, rs, all) : owned,
      now,
      newName: () => generatedName(`${rs.metadata.name}-`),
    });
    if (!sameLedger(plan.ledger, ledger)) current = await writeLedger(ctx.client, rs, plan.ledger);
    const done = await carryOut(ctx, current, plan);
    failure = done.failure;
    mine = [...owned.filter((pod) => !done.deleted.has(pod.metadata.uid as string)), ...done.created];
  }

  const status = replicaSetStatus(current, mine, now, failure);
  if (!sameStatus(current.status, status)) {
    current = await ctx.client.update<ReplicaSet>(replicaSets, { ...current, status }, 'status');
  }
  if (failure) throw new Error(`${namespace}/${name}: ${failure.message}`);
  const wait = nextAvailabilityMs(current, mine, now);
  return wait === undefined ? undefined : { requeueAfterMs: wait };
}

/** Adopts and releases (upstream `claimPods`); resolves to the active pods the ReplicaSet owns. */
async function claimPods(client: ApiClient, rs: ReplicaSet, all: readonly Pod[]): Promise<Pod[]> {
  const selects = selectorMatcher(rs.spec.selector);
  const decision = claim(rs, (pod: Pod) => selects(pod.metadata.labels), all.filter(isActive));
  const owned = [...decision.owned];
  const ref = controllerRef(rs, 'apps/v1', 'ReplicaSet');
  for (const pod of decision.adopt) {
    const adopted = await adopt(client, pods, pod, ref);
    if (adopted && isActive(adopted)) owned.push(adopted);
  }
  for (const pod of decision.release) await release(client, pods, pod, rs.metadata.uid as string);
  return owned;
}

/**
 * Active pods of the ReplicaSet's family: those of every ReplicaSet with the same controller (the
 * Deployment's), or only its own without one (upstream `getIndirectlyRelatedPods`).
 */
async function relatedPods(client: ApiClient, rs: ReplicaSet, all: readonly Pod[]): Promise<Pod[]> {
  const owner = controllerOf(rs);
  const family = new Set([rs.metadata.uid]);
  if (owner) {
    const siblings = await client.list<ReplicaSet>(replicaSets, { namespace: rs.metadata.namespace });
    for (const sibling of siblings.items)
      if (controllerOf(sibling)?.uid === owner.uid) family.add(sibling.metadata.uid);
  }
  return all.filter((pod) => isActive(pod) && family.has(controllerOf(pod)?.uid));
}

/** Swaps in the new ledger; 409 when another sync wrote the ReplicaSet since it was read. */
async function writeLedger(client: ApiClient, rs: ReplicaSet, ledger: Ledger): Promise<ReplicaSet> {
  const annotations = { ...rs.metadata.annotations };
  const value = ledgerValue(ledger);
  if (value === undefined) delete annotations[pendingAnnotation];
  else annotations[pendingAnnotation] = value;
  const { annotations: _old, ...rest } = rs.metadata;
  const metadata = Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest;
  return client.update<ReplicaSet>(replicaSets, { ...rs, metadata });
}

function isNamespaceTerminating(error: unknown): boolean {
  return error instanceof ApiError && error.code === 403 && error.message.includes('being terminated');
}

/**
 * Creates (in upstream's slow-start batches: 1, 2, 4 … stopping at the first failure) and deletes
 * what the plan says, recording upstream's events.
 */
async function carryOut(
  ctx: ControllerContext,
  rs: ReplicaSet,
  plan: ReplicaPlan,
): Promise<{ created: Pod[]; deleted: Set<string>; failure?: ReplicaFailure }> {
  const created: Pod[] = [];
  const deleted = new Set<string>();
  const record = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    ctx.events.record(rs, type, reason, message);
  let failure: ReplicaFailure | undefined;
  const ref = controllerRef(rs, 'apps/v1', 'ReplicaSet');
  const owner = { name: rs.metadata.name, namespace: rs.metadata.namespace as string };

  const createOne = async (name: string): Promise<boolean> => {
    try {
      const pod = await ctx.client.create<Pod>(pods, podFromTemplate(rs.spec.template, owner, ref, name));
      created.push(pod);
      record('Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      return true;
    } catch (error) {
      // Created meanwhile by a concurrent sync of the same ledger entry: done.
      if (error instanceof ApiError && error.reason === StatusReason.AlreadyExists) return true;
      if (isNamespaceTerminating(error)) return true;
      const message = error instanceof Error ? error.message : String(error);
      failure = { reason: 'FailedCreate', message };
      record('Warning', 'FailedCreate', `Error creating: ${message}`);
      return false;
    }
  };
  for (let next = 0, batch = 1; next < plan.create.length; batch *= 2) {
    const names = plan.create.slice(next, next + batch);
    next += names.length;
    const results = await Promise.all(names.map(createOne));
    if (results.includes(false)) break;
  }

  await Promise.all(
    plan.delete.map(async (pod) => {
      const { name, uid } = pod.metadata;
      try {
        await ctx.client.delete(pods, rs.metadata.namespace, name, { preconditions: { uid: uid as string } });
        record('Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      } catch (error) {
        // Gone already, or replaced by another pod of the same name: either way not ours to delete.
        if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) {
          const message = error instanceof Error ? error.message : String(error);
          failure ??= { reason: 'FailedDelete', message };
          record('Warning', 'FailedDelete', `Error deleting: ${message}`);
          return;
        }
      }
      deleted.add(uid as string);
    }),
  );
  return { created, deleted, ...(failure ? { failure } : {}) };
}

/**
 * The namespace-wide key: pods whose owner the change does not name (orphans, or changes too large to
 * carry the object). Syncs the ReplicaSets of the namespace that have something to do.
 */
async function sweepNamespace(
  ctx: ControllerContext,
  namespace: string,
): Promise<ReconcileResult | undefined> {
  const sets = (await ctx.client.list<ReplicaSet>(replicaSets, { namespace })).items;
  const all = (await ctx.client.list<Pod>(pods, { namespace })).items;
  const now = ctx.now();
  const active = all.filter(isActive);
  const busy = sets.filter((rs) => needsSync(rs, active, now));
  return syncEach(
    busy.map((rs) => rs.metadata.name),
    (name) => syncReplicaSet(ctx, namespace, name),
  );
}
