/**
 * The Deployment controller (upstream `pkg/controller/deployment`): a ReplicaSet per pod template,
 * named `<deployment>-<pod-template-hash>`, scaled by the rolling-update or recreate strategy, with
 * revision annotations for `kubectl rollout history/undo`, old ReplicaSets pruned to
 * `revisionHistoryLimit`, and the Progressing and Available conditions `kubectl rollout status` reads.
 *
 * The decisions are the pure functions of rollout.ts, revision.ts and deployment-status.ts; this file
 * reads, writes and records events. Every ReplicaSet write is a compare-and-swap on what was read, so a
 * concurrent sync that decided from an older state loses (409) and decides again. Upstream writes the
 * Deployment's status (and its revision annotation, which its status endpoint accepts) several times
 * per sync; here conditions collect on a working copy, the revision annotation is written through the
 * object (our status endpoint keeps metadata as it is, like most kinds upstream), and the status once.
 */
import type { Deployment, Pod, ReplicaSet } from '../../../shared/api/core.js';
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
import {
  calculateStatus,
  type DeploymentStatus,
  deadlineCheckMs,
  deploymentComplete,
  getCondition,
  hasProgressDeadline,
  markPaused,
  newCondition,
  Reason,
  rolloutStatus,
  sameDeploymentStatus,
  setCondition,
} from './deployment-status.js';
import { adopt, claim, controllerOf, controllerRef, release } from './ownership.js';
import { computeHash, equalIgnoreHash, podTemplateHashLabel, withHashLabel } from './pod-template.js';
import {
  maxRevision,
  newReplicaSetAnnotations,
  revisionAnnotation,
  setReplicasAnnotations,
} from './revision.js';
import {
  byCreation,
  desiredReplicas,
  isRollingUpdate,
  isScalingEvent,
  maxSurge,
  newReplicaSetReplicas,
  newReplicaSetScale,
  oldReplicaSetScales,
  proportionalScales,
  replicaSetsToCleanUp,
  specReplicas,
} from './rollout.js';
import { selectorMatcher, selectsEverything, withLabel } from './selector.js';
import { retryOnConflict, sweepName, syncEach } from './sync.js';

const deployments = resourceType('deployments.apps');
const replicaSets = resourceType('replicasets.apps');
const pods = resourceType('pods');

export const deploymentResyncMs = 5 * 60_000;

/** While a Recreate rollout waits for old pods to go, look again this often (besides pod deletions). */
const recreatePollMs = 2000;

/** Keys a ReplicaSet change asks the Deployment controller to look at. */
export function replicaSetChangeKeys(change: ObjectChange): string[] {
  const namespace = change.key.namespace as string;
  if (!change.before && !change.after) return [`${namespace}/${sweepName}`];
  const keys = new Set<string>();
  for (const rs of [change.before, change.after]) {
    const ref = controllerOf(rs);
    if (ref?.kind === 'Deployment' && ref.apiVersion.startsWith('apps/'))
      keys.add(`${namespace}/${ref.name}`);
  }
  // An orphan ReplicaSet may be adopted by a Deployment of its namespace.
  if (change.after && !controllerOf(change.after) && change.after.metadata.labels)
    keys.add(`${namespace}/${sweepName}`);
  return [...keys];
}

/**
 * A pod gone for good wakes the Deployment whose ReplicaSet owned it: a Recreate rollout waits for
 * exactly that. The Deployment's name is the ReplicaSet's without its `-<pod-template-hash>`.
 */
export function podRemovalKeys(change: ObjectChange): string[] {
  if (change.exists || !change.before) return [];
  const ref = controllerOf(change.before);
  const hash = change.before.metadata.labels?.[podTemplateHashLabel];
  if (ref?.kind !== 'ReplicaSet' || !hash || !ref.name.endsWith(`-${hash}`)) return [];
  return [`${change.key.namespace}/${ref.name.slice(0, -hash.length - 1)}`];
}

export function deploymentController(): Controller {
  return {
    name: 'deployment-controller',
    triggers: [
      ownKey('deployments.apps'),
      { resource: 'replicasets.apps', keys: replicaSetChangeKeys },
      { resource: 'pods', keys: podRemovalKeys },
    ],
    reconcile: async (key, ctx) => {
      const { namespace, name } = splitKey(key);
      if (!namespace) return undefined;
      if (name !== sweepName) return retryOnConflict(() => syncDeployment(ctx, namespace, name));
      const all = await ctx.client.list<Deployment>(deployments, { namespace });
      return syncEach(
        all.items.map((d) => d.metadata.name),
        (each) => syncDeployment(ctx, namespace, each),
      );
    },
    resync: {
      intervalMs: deploymentResyncMs,
      keys: everyObject(deployments),
    },
  };
}

/** One sync of one Deployment (upstream `syncDeployment`). */
export async function syncDeployment(
  ctx: ControllerContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult | undefined> {
  const d = await ctx.client.find<Deployment>(deployments, namespace, name);
  if (!d) return undefined;
  if (selectsEverything(d.spec.selector)) {
    ctx.events.record(
      d,
      'Warning',
      'SelectingAll',
      'This deployment is selecting all pods. A non-empty selector is required.',
    );
    if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 1)) {
      const status = { ...d.status, observedGeneration: d.metadata.generation ?? 1 };
      await ctx.client.update(deployments, { ...d, status }, 'status');
    }
    return undefined;
  }
  const sync = new DeploymentSync(ctx, d, await claimReplicaSets(ctx.client, d));
  return sync.run();
}

/** Adopts and releases ReplicaSets (upstream `getReplicaSetsForDeployment`); resolves to the owned ones. */
async function claimReplicaSets(client: ApiClient, d: Deployment): Promise<ReplicaSet[]> {
  const all = await client.list<ReplicaSet>(replicaSets, { namespace: d.metadata.namespace });
  const selects = selectorMatcher(d.spec.selector);
  const decision = claim(d, (rs: ReplicaSet) => selects(rs.metadata.labels), all.items);
  const owned = [...decision.owned];
  const ref = controllerRef(d, 'apps/v1', 'Deployment');
  for (const rs of decision.adopt) {
    const adopted = await adopt(client, replicaSets, rs, ref);
    if (adopted) owned.push(adopted);
  }
  for (const rs of decision.release) await release(client, replicaSets, rs, d.metadata.uid as string);
  return owned;
}

/** The state of one sync: the Deployment as read, its ReplicaSets as last written, the working status. */
class DeploymentSync {
  private readonly now: Date;
  private readonly working: DeploymentStatus;
  /** The revision annotation the Deployment should have, once known. */
  private revision: string | undefined;
  private requeueAfterMs: number | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly d: Deployment,
    private sets: ReplicaSet[],
  ) {
    this.now = ctx.now();
    this.working = structuredClone(d.status ?? {});
  }

  async run(): Promise<ReconcileResult | undefined> {
    const d = this.d;
    let status: DeploymentStatus;
    if (d.metadata.deletionTimestamp) {
      const { newRS } = await this.replicaSets(false);
      status = calculateStatus(this.sets, newRS, d, this.working, this.now);
    } else {
      markPaused(d, this.working, this.now);
      if (d.spec.paused || (await this.scalingEvent())) status = await this.scaleOnly();
      else if (isRollingUpdate(d)) status = await this.rolloutRolling();
      else status = await this.rolloutRecreate();
    }
    await this.write(status);
    return this.requeueAfterMs === undefined ? undefined : { requeueAfterMs: this.requeueAfterMs };
  }

  /** The current version of a ReplicaSet this sync may have written. */
  private latest(rs: ReplicaSet): ReplicaSet {
    return this.sets.find((s) => s.metadata.uid === rs.metadata.uid) ?? rs;
  }

  private replace(rs: ReplicaSet): ReplicaSet {
    this.sets = [...this.sets.filter((s) => s.metadata.uid !== rs.metadata.uid), rs];
    return rs;
  }

  /**
   * `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (the oldest whose template is the
   * Deployment's, created when asked and missing) with its annotations brought up to date, and the old.
   */
  private async replicaSets(create: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const d = this.d;
    const found = [...this.sets]
      .sort(byCreation)
      .find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
    const oldRSs = this.sets.filter((rs) => rs !== found);
    const newRevision = maxRevision(oldRSs) + 1;
    if (found) {
      const annotations = newReplicaSetAnnotations(
        d.metadata.annotations,
        found.metadata.annotations,
        newRevision,
      );
      const minReadySeconds = d.spec.minReadySeconds ?? 0;
      if (annotations || (found.spec.minReadySeconds ?? 0) !== minReadySeconds) {
        // As upstream: the Deployment's revision follows on the next sync, from the written annotation.
        const updated = await this.ctx.client.update<ReplicaSet>(replicaSets, {
          ...found,
          metadata: { ...found.metadata, ...(annotations ? { annotations } : {}) },
          spec: { ...found.spec, minReadySeconds },
        });
        return { newRS: this.replace(updated), oldRSs };
      }
      this.revision = found.metadata.annotations?.[revisionAnnotation];
      if (hasProgressDeadline(d) && !getCondition(this.working, 'Progressing')) {
        const message = `Found new replica set ${JSON.stringify(found.metadata.name)}`;
        setCondition(
          this.working,
          newCondition('Progressing', 'True', Reason.FoundNewReplicaSet, message, this.now),
        );
      }
      return { newRS: found, oldRSs };
    }
    if (!create) return { oldRSs };
    return { newRS: await this.createNewReplicaSet(oldRSs, newRevision), oldRSs };
  }

  private async createNewReplicaSet(oldRSs: ReplicaSet[], newRevision: number): Promise<ReplicaSet> {
    const d = this.d;
    const hash = computeHash(d.spec.template, d.status?.collisionCount);
    const template = withHashLabel(d.spec.template, hash);
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace as string,
        labels: { ...template.metadata?.labels },
        ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: withLabel(d.spec.selector, podTemplateHashLabel, hash),
        template,
      },
    };
    const replicas = newReplicaSetReplicas(d, [...oldRSs, rs], rs);
    rs.spec.replicas = replicas;
    const desired = desiredReplicas(d);
    const annotations = newReplicaSetAnnotations(d.metadata.annotations, {}, newRevision, {
      desired,
      max: desired + maxSurge(d),
    });
    if (annotations) rs.metadata.annotations = annotations;

    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.ctx.client.create<ReplicaSet>(replicaSets, rs);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.reason === StatusReason.AlreadyExists) {
        const existing = await this.ctx.client.get<ReplicaSet>(
          replicaSets,
          d.metadata.namespace,
          rs.metadata.name,
        );
        if (
          controllerOf(existing)?.uid !== d.metadata.uid ||
          !equalIgnoreHash(d.spec.template, existing.spec.template)
        ) {
          // A hash collision: another template has this name. The next sync hashes with one more.
          this.working.collisionCount = (d.status?.collisionCount ?? 0) + 1;
          await this.ctx.client.update(deployments, { ...d, status: this.working }, 'status');
          throw error;
        }
        created = existing;
        alreadyExisted = true;
      } else {
        if (error.code !== 403) {
          const message = `Failed to create new replica set ${JSON.stringify(rs.metadata.name)}: ${error.message}`;
          if (hasProgressDeadline(d)) {
            setCondition(
              this.working,
              newCondition('Progressing', 'False', Reason.FailedRSCreate, message, this.now),
            );
            await this.ctx.client
              .update(deployments, { ...d, status: this.working }, 'status')
              .catch(() => undefined);
          }
          this.ctx.events.record(d, 'Warning', Reason.FailedRSCreate, message);
        }
        throw error;
      }
    }
    if (!alreadyExisted && replicas > 0) {
      this.ctx.events.record(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata.name} to ${replicas}`,
      );
    }
    this.revision = String(newRevision);
    if (!alreadyExisted && hasProgressDeadline(d)) {
      const message = `Created new replica set ${JSON.stringify(created.metadata.name)}`;
      setCondition(
        this.working,
        newCondition('Progressing', 'True', Reason.NewReplicaSetCreated, message, this.now),
      );
    }
    return this.replace(created);
  }

  /** `scaleReplicaSet`: the size and the replica annotations; an event when the size changed. */
  private async scale(rs: ReplicaSet, replicas: number, operation: string): Promise<boolean> {
    const current = this.latest(rs);
    const desired = desiredReplicas(this.d);
    const annotations = { ...current.metadata.annotations };
    const annotationsChanged = setReplicasAnnotations(annotations, desired, desired + maxSurge(this.d));
    const from = specReplicas(current);
    if (from === replicas && !annotationsChanged) return false;
    const updated = await this.ctx.client.update<ReplicaSet>(replicaSets, {
      ...current,
      metadata: { ...current.metadata, annotations },
      spec: { ...current.spec, replicas },
    });
    this.replace(updated);
    if (from === replicas) return false;
    this.ctx.events.record(
      this.d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${operation} replica set ${updated.metadata.name} to ${replicas} from ${from}`,
    );
    return true;
  }

  /** `scaleReplicaSetAndRecordEvent`: only when the size changes. */
  private async resize(rs: ReplicaSet, replicas: number): Promise<boolean> {
    const from = specReplicas(this.latest(rs));
    if (from === replicas) return false;
    return this.scale(rs, replicas, from < replicas ? 'up' : 'down');
  }

  private async scalingEvent(): Promise<boolean> {
    const { newRS, oldRSs } = await this.replicaSets(false);
    return isScalingEvent(
      this.d,
      [...oldRSs, ...(newRS ? [newRS] : [])].map((rs) => this.latest(rs)),
    );
  }

  /** `sync`: scaling (a scaling event, or any change while paused), no rollout progress. */
  private async scaleOnly(): Promise<DeploymentStatus> {
    const { newRS, oldRSs } = await this.replicaSets(false);
    for (const step of proportionalScales(
      this.d,
      newRS && this.latest(newRS),
      oldRSs.map((rs) => this.latest(rs)),
    )) {
      if (step.operation === undefined) await this.resize(step.rs, step.replicas);
      else await this.scale(step.rs, step.replicas, step.operation);
    }
    if (this.d.spec.paused) await this.cleanUp(oldRSs);
    return calculateStatus(this.sets, newRS && this.latest(newRS), this.d, this.working, this.now);
  }

  /** `rolloutRolling`: scale the new ReplicaSet up if it may, else the old ones down if they may. */
  private async rolloutRolling(): Promise<DeploymentStatus> {
    const found = await this.replicaSets(true);
    const newRS = found.newRS as ReplicaSet;
    const size = newReplicaSetScale(this.d, this.sets, this.latest(newRS));
    if (size !== undefined && (await this.resize(newRS, size))) return this.rolloutStatus(newRS);
    const olds = oldReplicaSetScales(
      this.d,
      this.sets,
      found.oldRSs.map((rs) => this.latest(rs)),
      this.latest(newRS),
    );
    let scaledDown = false;
    for (const step of olds) if (await this.resize(step.rs, step.replicas)) scaledDown = true;
    if (scaledDown) return this.rolloutStatus(newRS);
    if (deploymentComplete(this.d, this.working)) await this.cleanUp(found.oldRSs);
    return this.rolloutStatus(newRS);
  }

  /** `rolloutRecreate`: every old pod gone before the new ReplicaSet gets any. */
  private async rolloutRecreate(): Promise<DeploymentStatus> {
    let { newRS, oldRSs } = await this.replicaSets(false);
    let scaledDown = false;
    for (const rs of oldRSs)
      if (specReplicas(this.latest(rs)) > 0 && (await this.resize(rs, 0))) scaledDown = true;
    if (scaledDown) return this.rolloutStatus(newRS);
    if (await this.oldPodsRunning(newRS, oldRSs)) {
      this.requeueAfterMs = recreatePollMs;
      return this.rolloutStatus(newRS);
    }
    if (!newRS) ({ newRS, oldRSs } = await this.replicaSets(true));
    await this.resize(newRS as ReplicaSet, desiredReplicas(this.d));
    if (deploymentComplete(this.d, this.working)) await this.cleanUp(oldRSs);
    return this.rolloutStatus(newRS);
  }

  /** `oldPodsRunning`: old ReplicaSets report pods, or pods of theirs exist that have not finished. */
  private async oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<boolean> {
    if (oldRSs.some((rs) => (this.latest(rs).status?.replicas ?? 0) > 0)) return true;
    const old = new Set(oldRSs.map((rs) => rs.metadata.uid));
    const selects = selectorMatcher(this.d.spec.selector);
    const all = await this.ctx.client.list<Pod>(pods, { namespace: this.d.metadata.namespace });
    return all.items.some((pod) => {
      const owner = controllerOf(pod)?.uid;
      const phase = pod.status?.phase;
      return (
        selects(pod.metadata.labels) &&
        owner !== undefined &&
        owner !== newRS?.metadata.uid &&
        old.has(owner) &&
        phase !== 'Succeeded' &&
        phase !== 'Failed'
      );
    });
  }

  /** `cleanupDeployment`: deletes old ReplicaSets beyond the revision history limit. */
  private async cleanUp(oldRSs: ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(
      this.d,
      oldRSs.map((s) => this.latest(s)),
    )) {
      try {
        await this.ctx.client.delete(replicaSets, rs.metadata.namespace, rs.metadata.name, {
          preconditions: { uid: rs.metadata.uid as string },
        });
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
  }

  private rolloutStatus(newRS: ReplicaSet | undefined): DeploymentStatus {
    return rolloutStatus(this.sets, newRS && this.latest(newRS), this.d, this.working, this.now);
  }

  /** Writes the revision annotation (through the object) and the status, each only if changed. */
  private async write(status: DeploymentStatus): Promise<void> {
    let d = this.d;
    if (this.revision !== undefined && d.metadata.annotations?.[revisionAnnotation] !== this.revision) {
      const annotations = { ...d.metadata.annotations, [revisionAnnotation]: this.revision };
      d = await this.ctx.client.update<Deployment>(deployments, {
        ...d,
        metadata: { ...d.metadata, annotations },
      });
    }
    if (!sameDeploymentStatus(this.d.status, status)) {
      await this.ctx.client.update(deployments, { ...d, status }, 'status');
    } else if (!this.d.spec.paused && !this.d.metadata.deletionTimestamp) {
      const wait = deadlineCheckMs(this.d, status, this.now);
      if (wait !== undefined) this.requeueAfterMs = Math.min(wait, this.requeueAfterMs ?? wait);
    }
  }
}
