/**
 * The ReplicaSet controller's decisions, pure: which pods to create and delete (through the ledger of
 * pending operations that replicaset.ts explains), and the status to report.
 */
import { randomInt } from 'node:crypto';
import type { Condition, Pod, ReplicaSet } from '../../../shared/api/core.js';
import { timestamp } from '../../../shared/api/time.js';
import { claim } from './ownership.js';
import { isAvailable, isReady, msUntilAvailable, podsToDelete } from './pods.js';
import { selectorMatcher } from './selector.js';

/** Where a ReplicaSet keeps the pod creations and deletions it has decided on but not yet seen done. */
export const pendingAnnotation = 'replicaset.lambernetes.io/pending';

/** Upstream's `burstReplicas`: the most pods one sync creates or deletes. */
export const burstReplicas = 500;

export interface Ledger {
  /** Names of pods to create. */
  create: string[];
  /** Pods to delete, by name and uid (a pod of the same name created later is not the one meant). */
  delete: { name: string; uid: string }[];
}

export function parseLedger(rs: ReplicaSet): Ledger {
  const value = rs.metadata.annotations?.[pendingAnnotation];
  if (!value) return { create: [], delete: [] };
  try {
    const parsed = JSON.parse(value) as Partial<Ledger>;
    return {
      create: Array.isArray(parsed.create) ? parsed.create.filter((n) => typeof n === 'string') : [],
      delete: Array.isArray(parsed.delete)
        ? parsed.delete.filter((d) => typeof d?.name === 'string' && typeof d?.uid === 'string')
        : [],
    };
  } catch {
    return { create: [], delete: [] };
  }
}

/** The annotation value, or `undefined` when nothing is pending (the annotation is then removed). */
export function ledgerValue(ledger: Ledger): string | undefined {
  if (ledger.create.length === 0 && ledger.delete.length === 0) return undefined;
  return JSON.stringify(ledger);
}

const nameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** A name as the apiserver makes one from `generateName` (the same alphabet and length). */
export function generatedName(prefix: string, random: (n: number) => number = randomInt): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += nameAlphabet[random(nameAlphabet.length)];
  return `${prefix.slice(0, 58)}${suffix}`;
}

export interface ReplicaPlanInput {
  replicas: number;
  ledger: Ledger;
  /** The active pods the ReplicaSet owns. */
  active: readonly Pod[];
  /** Names of every pod of the namespace, in whatever state: a pending creation done shows here. */
  existing: ReadonlySet<string>;
  /** Active pods of the ReplicaSet's family (its owner's other ReplicaSets), to spread deletions. */
  related: readonly Pod[];
  now: Date;
  newName: () => string;
}

export interface ReplicaPlan {
  /** What stays pending: the new annotation (it differs from the input's when anything settled). */
  ledger: Ledger;
  /** Pod names to create now: the pending ones not yet there, and new ones. */
  create: string[];
  /** Pods to delete now: the pending ones still active, and new ones. */
  delete: Pod[];
}

/**
 * `manageReplicas` against the ledger: pending creations count as pods, pending deletions as gone,
 * so a decision taken by a concurrent sync is never taken twice. Settled entries leave the ledger.
 */
export function planReplicas(input: ReplicaPlanInput): ReplicaPlan {
  const { replicas, ledger, active, existing, related, now } = input;
  const pendingCreates = ledger.create.filter((name) => !existing.has(name));
  const deleting = active.filter((pod) =>
    ledger.delete.some((d) => d.name === pod.metadata.name && d.uid === pod.metadata.uid),
  );
  const survivors = active.filter((pod) => !deleting.includes(pod));
  const diff = survivors.length + pendingCreates.length - replicas;
  const create = [...pendingCreates];
  const remove = [...deleting];
  if (diff < 0) {
    for (let i = 0; i < Math.min(-diff, burstReplicas); i++) create.push(input.newName());
  } else if (diff > 0) {
    remove.push(...podsToDelete(survivors, related, Math.min(diff, burstReplicas), now));
  }
  return {
    ledger: {
      create,
      delete: remove.map((pod) => ({ name: pod.metadata.name, uid: pod.metadata.uid as string })),
    },
    create,
    delete: remove,
  };
}

export function sameLedger(a: Ledger, b: Ledger): boolean {
  return ledgerValue(a) === ledgerValue(b);
}

export type ReplicaSetStatus = NonNullable<ReplicaSet['status']>;

/** A failed create or delete, reported as the `ReplicaFailure` condition (reasons as upstream). */
export interface ReplicaFailure {
  reason: 'FailedCreate' | 'FailedDelete';
  message: string;
}

/** Upstream `calculateStatus` of the ReplicaSet controller over its active pods. */
export function replicaSetStatus(
  rs: ReplicaSet,
  pods: readonly Pod[],
  now: Date,
  failure: ReplicaFailure | undefined,
): ReplicaSetStatus {
  const templateLabels = Object.entries(rs.spec.template.metadata?.labels ?? {});
  const minReadySeconds = rs.spec.minReadySeconds ?? 0;
  // As upstream's JSON: `replicas` always, the other counts only when not zero (omitempty).
  const status: ReplicaSetStatus = { ...rs.status, replicas: pods.length };
  const counts = {
    fullyLabeledReplicas: pods.filter((pod) =>
      templateLabels.every(([key, value]) => pod.metadata.labels?.[key] === value),
    ).length,
    readyReplicas: pods.filter(isReady).length,
    availableReplicas: pods.filter((pod) => isAvailable(pod, minReadySeconds, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  for (const [field, count] of Object.entries(counts) as [keyof typeof counts, number][]) {
    if (count > 0) status[field] = count;
    else delete status[field];
  }
  const current = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (failure && !current) {
    const condition: Condition = {
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: timestamp(now),
      reason: failure.reason,
      message: failure.message,
    };
    status.conditions = [...(rs.status?.conditions ?? []), condition];
  } else if (!failure && current) {
    status.conditions = (rs.status?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  }
  if (status.conditions?.length === 0) delete status.conditions;
  return status;
}

/** Status fields compared as upstream `updateReplicaSetStatus` does before writing (absent counts are 0). */
export function sameStatus(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  const fields = [
    'replicas',
    'fullyLabeledReplicas',
    'readyReplicas',
    'availableReplicas',
    'observedGeneration',
  ] as const;
  return (
    fields.every((field) => (a?.[field] ?? 0) === (b[field] ?? 0)) &&
    JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}

/**
 * Whether a sync of the ReplicaSet would do anything, judged from the active pods of its namespace:
 * pods to adopt or release, too few or too many, pending ledger entries, or a status to update.
 */
export function needsSync(rs: ReplicaSet, active: readonly Pod[], now: Date): boolean {
  const selects = selectorMatcher(rs.spec.selector);
  const decision = claim(rs, (pod: Pod) => selects(pod.metadata.labels), active);
  return (
    decision.adopt.length > 0 ||
    decision.release.length > 0 ||
    decision.owned.length !== (rs.spec.replicas ?? 1) ||
    ledgerValue(parseLedger(rs)) !== undefined ||
    !sameStatus(rs.status, replicaSetStatus(rs, decision.owned, now, undefined))
  );
}

/** When to look again because a ready pod becomes available (minReadySeconds), if any will. */
export function nextAvailabilityMs(rs: ReplicaSet, pods: readonly Pod[], now: Date): number | undefined {
  const waits = pods
    .map((pod) => msUntilAvailable(pod, rs.spec.minReadySeconds ?? 0, now))
    .filter((ms): ms is number => ms !== undefined);
  // A second more, as upstream adds against clock skew: availability is strictly after the deadline.
  return waits.length > 0 ? Math.min(...waits) + 1000 : undefined;
}
