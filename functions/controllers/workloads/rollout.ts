/**
 * The Deployment controller's arithmetic (upstream `deploymentutil` and the rolling, recreate and
 * scaling steps of `pkg/controller/deployment`), pure: given the Deployment and its ReplicaSets, the
 * sizes the ReplicaSets should have next.
 */
import type { Deployment, ReplicaSet } from '../../../shared/api/core.js';
import { desiredReplicasAnnotation, maxReplicasAnnotation, revisionOf } from './revision.js';

/** A ReplicaSet and the size it should be scaled to. */
export interface Scale {
  rs: ReplicaSet;
  replicas: number;
}

export function desiredReplicas(d: Deployment): number {
  return d.spec.replicas ?? 1;
}

export function specReplicas(rs: ReplicaSet): number {
  return rs.spec.replicas ?? 1;
}

function availableReplicas(rs: ReplicaSet): number {
  return rs.status?.availableReplicas ?? 0;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/**
 * `intstr.GetScaledValueFromIntOrPercent`: an integer as is, `"N%"` of `total` rounded up or down.
 * Throws on anything else, as upstream (validation keeps such values out).
 */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  if (!percent) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const scaled = (Number(percent[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * `ResolveFenceposts`: surge rounds up, unavailable rounds down, and when both come to zero one pod may
 * be unavailable (or no rollout could ever progress).
 */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Deployment) {
  const rolling = d.spec.strategy?.rollingUpdate;
  return resolveFenceposts(rolling?.maxSurge ?? '25%', rolling?.maxUnavailable ?? '25%', desiredReplicas(d));
}

/** How many pods above the desired count a rolling Deployment may have (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** How many of the desired pods may be unavailable (0 for Recreate or no replicas). */
export function maxUnavailable(d: Deployment): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

const sum = (sets: readonly ReplicaSet[], of: (rs: ReplicaSet) => number) =>
  sets.reduce((total, rs) => total + of(rs), 0);

/**
 * Pods a ReplicaSet may still have, for the surge limit: its size, or the active pods its status last
 * counted if more. Upstream counts the size alone and trusts its informer caches to be nearly fresh;
 * here a ReplicaSet scaled down keeps counting its pods until its controller reports them deleted, so a
 * rollout never has more than desired + maxSurge pods that are not terminating.
 */
function podsCounted(rs: ReplicaSet): number {
  return Math.max(specReplicas(rs), rs.status?.replicas ?? 0);
}

/**
 * Pods a ReplicaSet has available, for the unavailability limit: at most its size, since a ReplicaSet
 * scaled down is about to lose the difference (its status may not say so yet).
 */
function availableCounted(rs: ReplicaSet): number {
  return Math.min(specReplicas(rs), availableReplicas(rs));
}

/** `NewRSNewReplicas`: the new ReplicaSet's next size. */
export function newReplicaSetReplicas(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d)) return desired;
  const maxTotal = desired + maxSurge(d);
  const current = sum(allRSs, podsCounted);
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, desired - specReplicas(newRS));
  return specReplicas(newRS) + Math.max(0, scaleUp);
}

/** `reconcileNewReplicaSet`: the new ReplicaSet's size when it changes. */
export function newReplicaSetScale(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): number | undefined {
  const desired = desiredReplicas(d);
  const size = specReplicas(newRS);
  if (size === desired) return undefined;
  if (size > desired) return desired;
  const next = newReplicaSetReplicas(d, allRSs, newRS);
  return next === size ? undefined : next;
}

/** `controller.ReplicaSetsByCreationTimestamp`: older first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return Date.parse(ta) - Date.parse(tb) || (ta < tb ? -1 : 1);
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** `deploymentutil.ReplicaSetsByRevision`: lower revision first, else older first. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreation(a, b);
  return ra - rb;
}

/**
 * `reconcileOldReplicaSets`: first scale down old ReplicaSets' unavailable pods (they cannot lower
 * availability), then available old pods as far as `maxUnavailable` allows, oldest ReplicaSets first.
 */
export function oldReplicaSetScales(
  d: Deployment,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
): Scale[] {
  const active = oldRSs.filter((rs) => specReplicas(rs) > 0).sort(byCreation);
  if (active.length === 0) return [];
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - availableCounted(newRS);
  const maxScaledDown = sum(allRSs, specReplicas) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const sizes = new Map(active.map((rs) => [rs, specReplicas(rs)]));
  let cleaned = 0;
  for (const rs of active) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = specReplicas(rs) - availableCounted(rs);
    if (unhealthy <= 0) continue;
    const count = Math.min(maxScaledDown - cleaned, unhealthy);
    sizes.set(rs, specReplicas(rs) - count);
    cleaned += count;
  }

  const others = allRSs.filter((rs) => !sizes.has(rs));
  const available =
    sum(others, availableCounted) +
    active.reduce((total, rs) => total + Math.min(sizes.get(rs) as number, availableReplicas(rs)), 0);
  if (available > minAvailable) {
    const toScaleDown = available - minAvailable;
    let scaled = 0;
    for (const rs of active) {
      if (scaled >= toScaleDown) break;
      const size = sizes.get(rs) as number;
      if (size === 0) continue;
      const count = Math.min(size, toScaleDown - scaled);
      sizes.set(rs, size - count);
      scaled += count;
    }
  }
  return active
    .filter((rs) => sizes.get(rs) !== specReplicas(rs))
    .map((rs) => ({ rs, replicas: sizes.get(rs) as number }));
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const value = rs.metadata.annotations?.[key];
  return value !== undefined && /^-?\d+$/.test(value) ? Number(value) : undefined;
}

/** The Deployment size the ReplicaSet was last scaled for (`GetDesiredReplicasAnnotation`). */
export function desiredReplicasOf(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, desiredReplicasAnnotation);
}

/** `IsSaturated`: the new ReplicaSet has all desired pods, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicas(d);
  return (
    specReplicas(rs) === desired && desiredReplicasOf(rs) === desired && availableReplicas(rs) === desired
  );
}

/** `FindActiveOrLatest`: the only ReplicaSet with pods, or the newest when none has any. */
export function activeOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = [...newestFirst, ...(newRS ? [newRS] : [])].filter((rs) => specReplicas(rs) > 0);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/**
 * `getReplicaSetFraction`: the share of a scaling a ReplicaSet takes, from the Deployment size it was
 * scaled for (its max-replicas annotation) to the size now.
 */
function fraction(rs: ReplicaSet, d: Deployment): number {
  if (desiredReplicas(d) === 0) return -specReplicas(rs);
  const deploymentMax = desiredReplicas(d) + maxSurge(d);
  const annotated = intAnnotation(rs, maxReplicasAnnotation) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  // Go's math.Round (half away from zero); the size is never negative here.
  return Math.round((specReplicas(rs) * deploymentMax) / annotated) - specReplicas(rs);
}

/** `GetProportion`: the fraction, bounded by what is left to add or remove. */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const share = fraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(share, allowed) : Math.max(share, allowed);
}

/**
 * `DeploymentController.scale`: sizes for a scaling event or a paused Deployment. One active
 * ReplicaSet takes the whole size; a saturated new one leaves the old ones none; otherwise, for a
 * rolling Deployment, the change is shared in proportion to the ReplicaSets' sizes, the rest going to
 * the largest. Then every active ReplicaSet is listed with an `operation` ("up", "down" or "" for the
 * event): unchanged ones too, since their replica annotations must be brought up to date, or the
 * Deployment would look like it is being scaled forever.
 */
export function proportionalScales(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): (Scale & { operation?: 'up' | 'down' | '' })[] {
  const desired = desiredReplicas(d);
  const only = activeOrLatest(newRS, oldRSs);
  if (only) return specReplicas(only) === desired ? [] : [{ rs: only, replicas: desired }];
  if (isSaturated(d, newRS)) {
    return oldRSs.filter((rs) => specReplicas(rs) > 0).map((rs) => ({ rs, replicas: 0 }));
  }
  if (!isRollingUpdate(d)) return [];

  const active = [...oldRSs, ...(newRS ? [newRS] : [])].filter((rs) => specReplicas(rs) > 0);
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - sum(active, specReplicas);
  const operation = toAdd > 0 ? 'up' : toAdd < 0 ? 'down' : '';
  active.sort((a, b) => {
    if (specReplicas(a) !== specReplicas(b)) return specReplicas(b) - specReplicas(a);
    return toAdd > 0 ? byCreation(b, a) : byCreation(a, b);
  });
  let added = 0;
  const sizes = active.map((rs) => {
    if (toAdd === 0) return specReplicas(rs);
    const share = proportion(rs, d, toAdd, added);
    added += share;
    return specReplicas(rs) + share;
  });
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, (sizes[0] as number) + toAdd - added);
  return active.map((rs, i) => ({ rs, replicas: sizes[i] as number, operation }));
}

/** `FilterActiveReplicaSets` and `GetDesiredReplicasAnnotation`: a scaling event is when any
 * active ReplicaSet was sized for another Deployment size than the current one (`isScalingEvent`). */
export function isScalingEvent(d: Deployment, allRSs: readonly ReplicaSet[]): boolean {
  return allRSs
    .filter((rs) => specReplicas(rs) > 0)
    .some((rs) => {
      const desired = desiredReplicasOf(rs);
      return desired !== undefined && desired !== desiredReplicas(d);
    });
}

/**
 * `cleanupDeployment`: the old ReplicaSets beyond `revisionHistoryLimit`, lowest revisions first,
 * that may be deleted (no pods, nothing pending, not being deleted).
 */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec.revisionHistoryLimit;
  if (limit === undefined || limit === null) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort(byRevision);
  const excess = alive.length - limit;
  if (excess <= 0) return [];
  return alive
    .slice(0, excess)
    .filter(
      (rs) =>
        (rs.status?.replicas ?? 0) === 0 &&
        specReplicas(rs) === 0 &&
        (rs.metadata.generation ?? 1) <= (rs.status?.observedGeneration ?? 0),
    );
}
