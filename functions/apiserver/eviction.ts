/**
 * `pods/<name>/eviction`: the Eviction API `kubectl drain` uses. No PodDisruptionBudgets are served,
 * so no budget is checked: an eviction marks the pod with the `DisruptionTarget` condition and deletes
 * it with the Eviction's DeleteOptions, as upstream does once a budget allows it.
 */
import { ApiError, badRequest, StatusReason } from '../../shared/api/errors.js';
import { timestamp } from '../../shared/api/time.js';
import { isJsonObject, type KubernetesObject } from '../../shared/api/types.js';
import type { ObjectKey } from '../../shared/store/keys.js';
import { checkPreconditions } from '../../shared/store/store.js';
import { decodeDocument } from './decode.js';
import { type ApiResponse, json } from './http.js';
import {
  checkDeleteOptions,
  type DeleteOptions,
  deleteOne,
  dryRun,
  methodNotAllowed,
  type ResourceRequest,
  type RestContext,
  storeKey,
} from './rest.js';

const evictionVersions = ['policy/v1', 'policy/v1beta1'];

export async function evictPod(
  { type, info, request }: ResourceRequest,
  ctx: RestContext,
): Promise<ApiResponse> {
  if (type.resource !== 'pods' || info.name === undefined) throw methodNotAllowed();
  const eviction = decodeDocument(request.body, request.headers['content-type']);
  if (!isJsonObject(eviction)) throw badRequest('the request body must be an Eviction object');
  if (eviction.apiVersion !== undefined && !evictionVersions.includes(String(eviction.apiVersion)))
    throw badRequest(`the API version in the data (${String(eviction.apiVersion)}) is not policy/v1`);
  if (eviction.kind !== undefined && eviction.kind !== 'Eviction')
    throw badRequest(
      `the kind in the data (${String(eviction.kind)}) does not match the expected kind (Eviction)`,
    );
  const name = (eviction.metadata as { name?: unknown } | undefined)?.name;
  if (name !== undefined && name !== '' && name !== info.name)
    throw badRequest('name in URL does not match name in Eviction object');
  const given = eviction.deleteOptions ?? {};
  if (!isJsonObject(given)) throw badRequest('deleteOptions must be an object');
  const options = checkDeleteOptions(given as DeleteOptions);
  const dry = dryRun(request) || (Array.isArray(given.dryRun) && (given.dryRun as unknown[]).includes('All'));
  const key = storeKey(type, info);
  const marked = dry ? undefined : await markDisruptionTarget(key, options, ctx);
  // The condition changed the pod's resourceVersion: a pinned version now means the marked one.
  const preconditions = marked
    ? {
        ...options.preconditions,
        ...(options.preconditions?.resourceVersion ? { resourceVersion: marked } : {}),
      }
    : options.preconditions;
  await deleteOne(type, key, { ...options, ...(preconditions ? { preconditions } : {}) }, ctx, dry);
  return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/**
 * Adds `DisruptionTarget=True` (EvictionByEvictionAPI) to the pod's status, checking the
 * preconditions first; resolves to the new resourceVersion. A missing pod is 404.
 */
async function markDisruptionTarget(
  key: ObjectKey,
  options: DeleteOptions,
  ctx: RestContext,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const pod = await ctx.store.get(key);
    const { uid, resourceVersion } = options.preconditions ?? {};
    checkPreconditions(key, pod, {
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    });
    const status = (pod.status ?? {}) as { conditions?: { type: string }[] };
    const conditions = [
      ...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
      {
        type: 'DisruptionTarget',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: timestamp(ctx.now()),
        reason: 'EvictionByEvictionAPI',
        message: 'Eviction API: evicting',
      },
    ];
    const next: KubernetesObject = { ...pod, status: { ...status, conditions } };
    try {
      const stored = await ctx.store.update(key, next, Number(pod.metadata.resourceVersion));
      return stored.metadata.resourceVersion as string;
    } catch (error) {
      const lostRace = error instanceof ApiError && error.reason === StatusReason.Conflict;
      if (!lostRace || resourceVersion || attempt >= 10) throw error;
    }
  }
}
