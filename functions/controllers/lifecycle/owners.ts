/**
 * The garbage collector's decisions (upstream's attemptToDeleteItem, processDeletingDependentsItem,
 * orphanDependents), pure: what an owner reference's owner is to its dependent, what becomes of a
 * dependent, and where an owner being deleted stands with its dependents.
 */
import type { OwnerReference } from '../../../shared/api/core.js';
import { type ResourceType, resourceTypes } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';

export const orphanFinalizer = 'orphan';
export const foregroundFinalizer = 'foregroundDeletion';

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/**
 * An owner that exists with the referenced uid (`solid`), that does not (`dangling`: gone, or
 * recreated under the same name), or that is being deleted in the foreground and waits for its
 * dependents (`waiting`). An owner of a kind this server does not serve is `unknown`: left alone.
 */
export type OwnerState = 'solid' | 'dangling' | 'waiting' | 'unknown';

export function ownerState(ref: OwnerReference, owner: KubernetesObject | undefined): OwnerState {
  if (!owner || owner.metadata.uid !== ref.uid) return 'dangling';
  const { deletionTimestamp, finalizers } = owner.metadata;
  return deletionTimestamp && finalizers?.includes(foregroundFinalizer) ? 'waiting' : 'solid';
}

export type DependentAction =
  | { action: 'keep' }
  /** Remove the references to these owner uids (the object still has a solid owner). */
  | { action: 'unlink'; uids: string[] }
  | { action: 'delete'; propagationPolicy: PropagationPolicy };

/**
 * What becomes of an object given the state of each of its owners (by uid): kept while it has a
 * solid owner (references to dangling and waiting owners removed), else deleted — in the foreground
 * when an owner waits for it, so its own dependents go first; otherwise as its finalizers ask.
 */
export function dependentAction(
  object: KubernetesObject,
  states: ReadonlyMap<string, OwnerState>,
): DependentAction {
  const refs = object.metadata.ownerReferences ?? [];
  if (refs.length === 0) return { action: 'keep' };
  const stateOf = (ref: OwnerReference) => states.get(ref.uid) ?? 'unknown';
  const solid = refs.filter((r) => stateOf(r) === 'solid' || stateOf(r) === 'unknown');
  const gone = refs.filter((r) => stateOf(r) === 'dangling' || stateOf(r) === 'waiting');
  if (solid.length > 0)
    return gone.length === 0 ? { action: 'keep' } : { action: 'unlink', uids: gone.map((r) => r.uid) };
  if (refs.some((r) => stateOf(r) === 'waiting'))
    return { action: 'delete', propagationPolicy: 'Foreground' };
  const finalizers = object.metadata.finalizers ?? [];
  if (finalizers.includes(orphanFinalizer)) return { action: 'delete', propagationPolicy: 'Orphan' };
  if (finalizers.includes(foregroundFinalizer)) return { action: 'delete', propagationPolicy: 'Foreground' };
  return { action: 'delete', propagationPolicy: 'Background' };
}

/** Where an object stands in its own deletion, as far as its dependents are concerned. */
export type DeletionStage = 'live' | 'deleting' | 'deletingDependents' | 'orphaningDependents';

export function deletionStage(object: KubernetesObject): DeletionStage {
  const { deletionTimestamp, finalizers = [] } = object.metadata;
  if (!deletionTimestamp) return 'live';
  if (finalizers.includes(foregroundFinalizer)) return 'deletingDependents';
  if (finalizers.includes(orphanFinalizer)) return 'orphaningDependents';
  return 'deleting';
}

export function referencesTo(object: KubernetesObject, ownerUid: string): OwnerReference[] {
  return (object.metadata.ownerReferences ?? []).filter((r) => r.uid === ownerUid);
}

/** The dependents that hold a foreground deletion of their owner back (blockOwnerDeletion). */
export function blockingDependents<T extends KubernetesObject>(
  ownerUid: string,
  dependents: readonly T[],
): T[] {
  return dependents.filter((d) => referencesTo(d, ownerUid).some((r) => r.blockOwnerDeletion === true));
}

/** The object's owner references without those to the given uids. */
export function withoutOwners(object: KubernetesObject, uids: readonly string[]): OwnerReference[] {
  return (object.metadata.ownerReferences ?? []).filter((r) => !uids.includes(r.uid));
}

/** The served resource type an owner reference names (any served version of its group and kind). */
export function ownerType(ref: Pick<OwnerReference, 'apiVersion' | 'kind'>): ResourceType | undefined {
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  return resourceTypes.find((t) => t.group === group && t.kind === ref.kind);
}

/**
 * The types whose objects may depend on an owner of `type`: a namespaced owner's dependents live in
 * its namespace; a cluster-scoped owner may have dependents of any type. Events are left out: they
 * are many, expire on their own, and nothing makes them dependents.
 */
export function dependentTypes(type: ResourceType): ResourceType[] {
  return resourceTypes.filter((t) => t.kind !== 'Event' && (t.namespaced || !type.namespaced));
}

/** Whether the reference names an owner of this type and name (of any uid). */
export function refersTo(ref: OwnerReference, type: ResourceType, name: string): boolean {
  const named = ownerType(ref);
  return named !== undefined && named.group === type.group && named.kind === type.kind && ref.name === name;
}
