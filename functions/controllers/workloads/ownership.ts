import { ApiError } from '../../../shared/api/errors.js';
import type { ResourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject, OwnerReference } from '../../../shared/api/types.js';
import type { ApiClient } from '../../../shared/client/client.js';

/** The owner reference with `controller: true`, if any (`metav1.GetControllerOf`). */
export function controllerOf(object: KubernetesObject | undefined): OwnerReference | undefined {
  return object?.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** `metav1.NewControllerRef`: how a controller marks what it owns. */
export function controllerRef(owner: KubernetesObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface Claim<T> {
  /** Controlled by the owner and selected by it. */
  owned: T[];
  /** Orphans the owner selects: to be adopted. */
  adopt: T[];
  /** Controlled by the owner but no longer selected: to be released. */
  release: T[];
}

/**
 * Upstream's `ControllerRefManager.ClaimObject`, as a decision: what the owner keeps, adopts and
 * releases among `objects`. Nothing is adopted or released while the owner is being deleted, and
 * objects being deleted are never adopted.
 */
export function claim<T extends KubernetesObject>(
  owner: KubernetesObject,
  selects: (object: T) => boolean,
  objects: readonly T[],
): Claim<T> {
  const result: Claim<T> = { owned: [], adopt: [], release: [] };
  const ownerDeleting = Boolean(owner.metadata.deletionTimestamp);
  for (const object of objects) {
    const ref = controllerOf(object);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (selects(object)) result.owned.push(object);
      else if (!ownerDeleting) result.release.push(object);
    } else if (!ownerDeleting && selects(object) && !object.metadata.deletionTimestamp) {
      result.adopt.push(object);
    }
  }
  return result;
}

/**
 * Adds `ref` to the object's owner references, only if it is still the version read: a merge patch
 * that pins `resourceVersion`, so two controllers can never both adopt one orphan (the second gets 409).
 * Resolves to the adopted object, or `undefined` when it is gone.
 */
export async function adopt<T extends KubernetesObject>(
  client: ApiClient,
  type: ResourceType,
  object: T,
  ref: OwnerReference,
): Promise<T | undefined> {
  const refs = [...(object.metadata.ownerReferences ?? []), ref];
  return patchOwners(client, type, object, refs);
}

/** Removes the owner's reference, as a conditional patch too; `undefined` when the object is gone. */
export async function release<T extends KubernetesObject>(
  client: ApiClient,
  type: ResourceType,
  object: T,
  ownerUid: string,
): Promise<T | undefined> {
  const refs = (object.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== ownerUid);
  return patchOwners(client, type, object, refs.length > 0 ? refs : null);
}

async function patchOwners<T extends KubernetesObject>(
  client: ApiClient,
  type: ResourceType,
  object: T,
  ownerReferences: OwnerReference[] | null,
): Promise<T | undefined> {
  const { namespace, name, resourceVersion } = object.metadata;
  try {
    return await client.patch<T>(type, namespace, name, { metadata: { resourceVersion, ownerReferences } });
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  }
}
