/** The pod reads and writes the lifecycle controllers share, through the API. */
import type { Condition, Pod } from '../../../shared/api/core.js';
import { ApiError } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { ApiClient } from '../../../shared/client/client.js';
import { withCondition } from './pod-status.js';

export const pods = resourceType('pods');

export async function podsOnNode(client: ApiClient, node: string): Promise<Pod[]> {
  return (await client.list<Pod>(pods, { fieldSelector: `spec.nodeName=${node}` })).items;
}

/** Resolves to false when the object is already gone (404): for writes racing a deletion. */
export async function unlessGone(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return false;
    throw error;
  }
}

/**
 * Writes the pod's status with `condition` (and `phase`, if given) as a compare-and-swap on the
 * version read; resolves to the updated pod (undefined if it is gone). A 409 is thrown: retried.
 */
export async function updatePodStatus(
  client: ApiClient,
  pod: Pod,
  condition: Condition | undefined,
  phase?: 'Failed',
): Promise<Pod | undefined> {
  const status = { ...(condition ? withCondition(pod, condition) : pod.status), ...(phase ? { phase } : {}) };
  try {
    return await client.update<Pod>(pods, { ...pod, status }, 'status');
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  }
}
