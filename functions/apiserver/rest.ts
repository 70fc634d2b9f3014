import type { Pod } from '../../shared/api/core.js';
import { ApiError, badRequest, conflict, notFound, StatusReason, timeout } from '../../shared/api/errors.js';
import { apiVersionOf, qualifiedResource, type ResourceType } from '../../shared/api/resources.js';
import { timestamp } from '../../shared/api/time.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { ObjectKey } from '../../shared/store/keys.js';
import type { ListResult } from '../../shared/store/list.js';
import { checkPreconditions, type Store } from '../../shared/store/store.js';
import { prepareForCreate, prepareForUpdate } from './admission.js';
import { allocateServiceAddresses, releaseServiceAddresses } from './allocators.js';
import type { WriteRestriction } from './auth/restrictions.js';
import type { User } from './auth/types.js';
import { decodeDocument, decodeObject } from './decode.js';
import { defaultPropagation, finalizersAfterDelete, podGracePeriod, sameSet } from './deletion.js';
import { evictPod } from './eviction.js';
import { checkFields, fieldValidationOf, warningHeader } from './field-validation.js';
import { type ApiRequest, type ApiResponse, acceptedTypes, json } from './http.js';
import { applyPatch } from './patch.js';
import type { ResourceRequestInfo } from './request-info.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { admitServiceAccount } from './service-account-admission.js';
import { toTable } from './table/index.js';

export interface RestContext {
  store: Store;
  now: () => Date;
  /** The longest a watch stays open before the server ends it (clients then watch again). */
  maxWatchSeconds: number;
  /** Checks on what an authenticated user's write would store (escalation, node restriction). */
  restrict?: WriteRestriction;
}

/** One request against one resource type: what the verbs share. */
export interface ResourceRequest {
  type: ResourceType;
  info: ResourceRequestInfo;
  request: ApiRequest;
  /** Who asks; absent for the server's own writes (bootstrap). */
  user?: User;
}

/** The write restrictions on what `req.user` would store; none for the server's own writes. */
async function restrict(
  req: ResourceRequest,
  ctx: RestContext,
  object: KubernetesObject,
  old?: KubernetesObject,
): Promise<void> {
  if (req.user && ctx.restrict) await ctx.restrict(req.user, req.type, object, old);
}

export function storeKey(
  type: ResourceType,
  info: ResourceRequestInfo,
  name = info.name as string,
): ObjectKey {
  return {
    resource: qualifiedResource(type),
    ...(type.namespaced ? { namespace: info.namespace as string } : {}),
    name,
  };
}

function wantsTable(request: ApiRequest): boolean {
  return acceptedTypes(request.headers.accept).some((t) => t.params.as === 'Table');
}

function includeObject(request: ApiRequest): 'None' | 'Metadata' | 'Object' {
  const value = request.query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function dryRun(request: ApiRequest): boolean {
  const value = request.query.get('dryRun');
  if (value !== null && value !== 'All')
    throw badRequest(`unsupported dry run value "${value}": only "All" is supported`);
  return value === 'All';
}

function revisionOf(object: KubernetesObject): number {
  return Number(object.metadata.resourceVersion);
}

function parseRevision(value: string, what = 'resourceVersion'): number {
  if (!/^\d+$/.test(value)) throw badRequest(`invalid ${what}: "${value}"`);
  return Number(value);
}

function isReason(error: unknown, reason: string): boolean {
  return error instanceof ApiError && error.reason === reason;
}

// ----- reads -----

export async function getResource(
  { type, info, request }: ResourceRequest,
  ctx: RestContext,
): Promise<ApiResponse> {
  const object = await ctx.store.get(storeKey(type, info));
  if (info.subresource === 'scale') return json(200, scaleOf(type, object));
  if (wantsTable(request)) {
    return json(
      200,
      toTable(qualifiedResource(type), [object], {
        metadata: { resourceVersion: '' },
        now: ctx.now(),
        includeObject: includeObject(request),
      }),
    );
  }
  return json(200, object);
}

/** The objects a list or watch request selects, checked up front so bad selectors are 400. */
function selection(
  type: ResourceType,
  request: ApiRequest,
): ((object: KubernetesObject) => boolean) | undefined {
  const labels = parseLabelSelector(request.query.get('labelSelector'));
  const fields = parseFieldSelector(qualifiedResource(type), request.query.get('fieldSelector'));
  if (!labels && !fields) return undefined;
  return (object) => (!labels || labels(object.metadata.labels)) && (!fields || fields(object));
}

export async function listObjects(
  { type, info, request }: ResourceRequest,
  ctx: RestContext,
): Promise<ListResult> {
  const query = request.query;
  const filter = selection(type, request);
  const limitText = query.get('limit');
  const limit = limitText ? parseRevision(limitText, 'limit') : undefined;
  const resourceVersion = query.get('resourceVersion') ?? '';
  const match = query.get('resourceVersionMatch');
  const continueToken = query.get('continue');
  const prefix = {
    resource: qualifiedResource(type),
    ...(type.namespaced && info.namespace ? { namespace: info.namespace } : {}),
  };
  const options = { ...(filter ? { filter } : {}), ...(limit ? { limit } : {}) };
  if (continueToken) {
    if (resourceVersion !== '' && resourceVersion !== '0')
      throw badRequest('specifying resource version is not allowed when using continue');
    return ctx.store.list(prefix, { ...options, continue: continueToken });
  }
  if (match !== null && match !== 'Exact' && match !== 'NotOlderThan')
    throw badRequest(`unsupported resourceVersionMatch "${match}"`);
  if (match && resourceVersion === '')
    throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match === 'Exact') {
    if (resourceVersion === '0')
      throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
    return ctx.store.list(prefix, { ...options, revision: parseRevision(resourceVersion) });
  }
  const notOlderThan = resourceVersion === '' ? 0 : parseRevision(resourceVersion);
  const result = await ctx.store.list(prefix, options);
  if (result.revision < notOlderThan)
    throw timeout(`Too large resource version: ${notOlderThan}, current: ${result.revision}`);
  return result;
}

export async function listResource(req: ResourceRequest, ctx: RestContext): Promise<ApiResponse> {
  const result = await listObjects(req, ctx);
  const metadata = {
    resourceVersion: String(result.revision),
    ...(result.continue ? { continue: result.continue } : {}),
  };
  if (wantsTable(req.request)) {
    return json(
      200,
      toTable(qualifiedResource(req.type), result.items, {
        metadata,
        now: ctx.now(),
        includeObject: includeObject(req.request),
      }),
    );
  }
  return json(200, {
    kind: `${req.type.kind}List`,
    apiVersion: apiVersionOf(req.type),
    metadata,
    items: result.items,
  });
}

// ----- writes -----

async function ensureNamespaceAcceptsContent(ctx: RestContext, namespace: string): Promise<void> {
  const found = await ctx.store.get({ resource: 'namespaces', name: namespace });
  if (
    found.metadata.deletionTimestamp ||
    (found.status as { phase?: string } | undefined)?.phase === 'Terminating'
  ) {
    throw new ApiError(
      403,
      StatusReason.Forbidden,
      `unable to create new content in namespace ${namespace} because it is being terminated`,
      {
        name: namespace,
        kind: 'namespaces',
      },
    );
  }
}

export async function createResource(req: ResourceRequest, ctx: RestContext): Promise<ApiResponse> {
  const { type, info, request } = req;
  if (info.subresource === 'binding') return bindPod(req, ctx);
  if (info.subresource === 'eviction') return evictPod(req, ctx);
  if (info.name !== undefined || info.subresource !== undefined) throw methodNotAllowed();
  const input = decodeObject(type, decodeDocument(request.body, request.headers['content-type']));
  const warnings = warningHeader(checkFields(type, input, fieldValidationOf(request.query)));
  let prepared = prepareForCreate(type, input, info.namespace, ctx.now());
  await restrict(req, ctx, prepared);
  if (type.namespaced) await ensureNamespaceAcceptsContent(ctx, prepared.metadata.namespace as string);
  if (type.group === '' && type.kind === 'Pod')
    prepared = await admitServiceAccount(ctx.store, prepared as Pod);
  if (dryRun(request)) return json(201, prepared, undefined, warnings);
  const key = storeKey(type, info, prepared.metadata.name);
  if (type.kind !== 'Service') return json(201, await ctx.store.create(key, prepared), undefined, warnings);
  const addressed = await allocateServiceAddresses(ctx.store, type, prepared);
  try {
    return json(201, await ctx.store.create(key, addressed), undefined, warnings);
  } catch (error) {
    await releaseServiceAddresses(ctx.store, addressed);
    throw error;
  }
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    405,
    StatusReason.MethodNotAllowed,
    'the server does not allow this method on the requested resource',
  );
}

/**
 * Read, change, compare-and-swap; again from the read when someone else wrote meanwhile, unless the
 * client pinned a resourceVersion (then their stale version is a 409).
 */
async function guaranteedUpdate(
  req: ResourceRequest,
  ctx: RestContext,
  change: (current: KubernetesObject) => KubernetesObject,
): Promise<KubernetesObject> {
  const key = storeKey(req.type, req.info);
  for (let attempt = 0; ; attempt++) {
    const current = await ctx.store.get(key);
    const wanted = change(current);
    const pinned = wanted.metadata.resourceVersion;
    if (pinned && pinned !== current.metadata.resourceVersion) throw conflict(key.resource, key.name);
    const next = prepareForUpdate(
      req.type,
      current,
      wanted,
      req.info.subresource === 'scale' ? undefined : req.info.subresource,
    );
    await restrict(req, ctx, next, current);
    if (dryRun(req.request)) return next;
    try {
      // As upstream's shouldDeleteDuringUpdate: the last finalizer gone, and no kubelet still to
      // finish a graceful pod deletion (that ends with its own delete, grace period 0).
      if (
        next.metadata.deletionTimestamp &&
        (next.metadata.finalizers ?? []).length === 0 &&
        !pendingNamespaceFinalizers(next) &&
        !(next.metadata.deletionGracePeriodSeconds ?? 0)
      ) {
        return await removeStored(ctx, req.type, key, current);
      }
      return await ctx.store.update(key, next, revisionOf(current));
    } catch (error) {
      if (pinned || attempt >= 10 || !isReason(error, StatusReason.Conflict)) throw error;
    }
  }
}

/** Removes a stored object (still at the revision read), freeing what a service held. */
async function removeStored(
  ctx: RestContext,
  type: ResourceType,
  key: ObjectKey,
  current: KubernetesObject,
): Promise<KubernetesObject> {
  const deleted = await ctx.store.delete(key, {
    resourceVersion: current.metadata.resourceVersion as string,
  });
  if (type.kind === 'Service') await releaseServiceAddresses(ctx.store, deleted);
  return deleted;
}

function pendingNamespaceFinalizers(object: KubernetesObject): boolean {
  return (
    object.kind === 'Namespace' &&
    ((object.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0
  );
}

export async function updateResource(req: ResourceRequest, ctx: RestContext): Promise<ApiResponse> {
  const { type, info, request } = req;
  if (info.name === undefined) throw methodNotAllowed();
  const document = decodeDocument(request.body, request.headers['content-type']);
  if (info.subresource === 'finalize') return finalizeNamespace(req, document, ctx);
  if (info.subresource === 'scale') {
    const replicas = (document as { spec?: { replicas?: unknown } }).spec?.replicas;
    const updated = await guaranteedUpdate(req, ctx, (current) =>
      withReplicas(current, replicas, (document as KubernetesObject).metadata?.resourceVersion),
    );
    return json(200, scaleOf(type, updated));
  }
  const input = decodeObject(type, document);
  const warnings = warningHeader(checkFields(type, input, fieldValidationOf(request.query)));
  if (input.metadata.name !== info.name) {
    throw badRequest(
      `the name of the object (${input.metadata.name ?? ''}) does not match the name on the URL (${info.name})`,
    );
  }
  if (type.namespaced && input.metadata.namespace && input.metadata.namespace !== info.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const updated = await guaranteedUpdate(req, ctx, () => input);
  return json(200, updated, undefined, warnings);
}

/**
 * `namespaces/<name>/finalize`: replaces only spec.finalizers (what the namespace controller removes
 * `kubernetes` from once the namespace is empty); a terminating namespace with none left is removed.
 */
async function finalizeNamespace(
  req: ResourceRequest,
  document: unknown,
  ctx: RestContext,
): Promise<ApiResponse> {
  const input = decodeObject(req.type, document);
  if (input.metadata.name !== req.info.name) {
    throw badRequest(
      `the name of the object (${input.metadata.name ?? ''}) does not match the name on the URL (${req.info.name})`,
    );
  }
  const finalizers = (input.spec as { finalizers?: unknown } | undefined)?.finalizers ?? [];
  if (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== 'string' || f === ''))
    throw badRequest('spec.finalizers must be a list of finalizer names');
  const updated = await guaranteedUpdate(req, ctx, (current) => {
    const metadata = { ...current.metadata };
    if (input.metadata.resourceVersion) metadata.resourceVersion = input.metadata.resourceVersion;
    else delete metadata.resourceVersion;
    return { ...current, metadata, spec: { ...(current.spec as object), finalizers } };
  });
  return json(200, updated);
}

export async function patchResource(
  req: ResourceRequest,
  ctx: RestContext,
  strategic: (target: unknown, patch: unknown) => unknown,
): Promise<ApiResponse> {
  const { type, info, request } = req;
  if (info.name === undefined) throw methodNotAllowed();
  let patch: unknown;
  try {
    patch = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw badRequest('the patch could not be decoded as JSON');
  }
  const contentType = request.headers['content-type'];
  const validation = fieldValidationOf(request.query);
  let warnings: string[] = [];
  if (info.subresource === 'scale') {
    const updated = await guaranteedUpdate(req, ctx, (current) => {
      const scale = applyPatch(contentType, scaleOf(type, current), patch, strategic) as {
        spec?: { replicas?: unknown };
        metadata?: { resourceVersion?: string };
      };
      return withReplicas(current, scale.spec?.replicas, scale.metadata?.resourceVersion);
    });
    return json(200, scaleOf(type, updated));
  }
  const updated = await guaranteedUpdate(req, ctx, (current) => {
    const patched = decodeObject(type, applyPatch(contentType, current, patch, strategic));
    warnings = checkFields(type, patched, validation);
    if (patched.metadata.name !== current.metadata.name)
      throw badRequest('the patch may not change metadata.name');
    // A patch is against the version read here; it pins a resourceVersion only if it sets one itself.
    if (
      patched.metadata.resourceVersion === current.metadata.resourceVersion &&
      !patchSetsResourceVersion(patch)
    ) {
      delete patched.metadata.resourceVersion;
    }
    return patched;
  });
  return json(200, updated, undefined, warningHeader(warnings));
}

function patchSetsResourceVersion(patch: unknown): boolean {
  if (Array.isArray(patch))
    return patch.some((op) => typeof op?.path === 'string' && op.path === '/metadata/resourceVersion');
  return (
    typeof (patch as { metadata?: { resourceVersion?: unknown } })?.metadata?.resourceVersion === 'string'
  );
}

// ----- scale and binding -----

function scaleOf(type: ResourceType, object: KubernetesObject) {
  if (!type.subresources?.includes('scale')) throw notFound(qualifiedResource(type), object.metadata.name);
  const spec = (object.spec ?? {}) as {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
  };
  const status = (object.status ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector },
  };
}

function withReplicas(
  object: KubernetesObject,
  replicas: unknown,
  resourceVersion: string | undefined,
): KubernetesObject {
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new ApiError(
      422,
      StatusReason.Invalid,
      `Scale "${object.metadata.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
    );
  }
  const metadata = { ...object.metadata };
  if (resourceVersion) metadata.resourceVersion = resourceVersion;
  else delete metadata.resourceVersion;
  return { ...object, metadata, spec: { ...(object.spec as object), replicas } };
}

/** `pods/binding`: assigns a pod to a node, once. */
async function bindPod({ type, info, request }: ResourceRequest, ctx: RestContext): Promise<ApiResponse> {
  if (type.resource !== 'pods' || info.name === undefined) throw methodNotAllowed();
  const binding = decodeDocument(request.body, request.headers['content-type']) as {
    target?: { kind?: string; name?: string };
    metadata?: { name?: string };
  };
  const node = binding?.target?.name;
  if (!node || (binding.target?.kind && binding.target.kind !== 'Node'))
    throw badRequest('a binding must target a Node by name');
  const key = storeKey(type, info);
  for (;;) {
    const pod = await ctx.store.get(key);
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName)
      throw conflict(
        key.resource,
        key.name,
        `pod ${key.name} is already assigned to node "${spec.nodeName}"`,
      );
    if (pod.metadata.deletionTimestamp)
      throw conflict(
        key.resource,
        key.name,
        `pod ${key.name} is being deleted, cannot be assigned to a host`,
      );
    const status = (pod.status ?? {}) as { conditions?: { type: string }[] };
    const conditions = [
      ...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(ctx.now()) },
    ];
    const bound = { ...pod, spec: { ...spec, nodeName: node }, status: { ...status, conditions } };
    try {
      await ctx.store.update(key, bound, revisionOf(pod));
      return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    } catch (error) {
      if (!isReason(error, StatusReason.Conflict)) throw error;
    }
  }
}

// ----- delete -----

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

function deleteOptions(request: ApiRequest): DeleteOptions {
  let body: DeleteOptions = {};
  if (request.body.length > 0 && request.body.toString('utf8').trim() !== '') {
    const decoded = decodeDocument(request.body, request.headers['content-type']);
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded))
      throw badRequest('DeleteOptions must be an object');
    body = decoded as DeleteOptions;
  }
  const grace = request.query.get('gracePeriodSeconds');
  const propagation = request.query.get('propagationPolicy');
  return checkDeleteOptions({
    ...body,
    ...(grace !== null ? { gracePeriodSeconds: Number(grace) } : {}),
    ...(propagation !== null ? { propagationPolicy: propagation as DeleteOptions['propagationPolicy'] } : {}),
  });
}

/** DeleteOptions from a request (or an Eviction), their values checked: anything wrong is 400. */
export function checkDeleteOptions(options: DeleteOptions): DeleteOptions {
  if (options.gracePeriodSeconds !== undefined && !Number.isInteger(options.gracePeriodSeconds))
    throw badRequest('gracePeriodSeconds must be an integer');
  if (
    options.propagationPolicy !== undefined &&
    !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)
  ) {
    throw badRequest(
      `propagationPolicy "${options.propagationPolicy}" is not supported: use Orphan, Background or Foreground`,
    );
  }
  if (options.orphanDependents !== undefined && typeof options.orphanDependents !== 'boolean')
    throw badRequest('orphanDependents must be a boolean');
  if (options.orphanDependents !== undefined && options.propagationPolicy !== undefined)
    throw badRequest('orphanDependents and propagationPolicy may not both be set');
  return options;
}

function deletedStatus(type: ResourceType, object: KubernetesObject) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name: object.metadata.name,
      ...(type.group ? { group: type.group } : {}),
      kind: type.resource,
      uid: object.metadata.uid,
    },
  };
}

/**
 * Deletion as Kubernetes does it: objects with finalizers (or whose deletion must wait, as namespaces
 * and scheduled pods do) get a deletionTimestamp and stay until those are done; others go at once.
 * The propagation policy becomes the garbage collector's `orphan`/`foregroundDeletion` finalizer; a
 * later delete may change those or shorten a pod's grace period.
 */
export async function deleteOne(
  type: ResourceType,
  key: ObjectKey,
  options: DeleteOptions,
  ctx: RestContext,
  dry: boolean,
): Promise<{ object: KubernetesObject; deleted: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const current = await ctx.store.get(key);
    const { uid, resourceVersion } = options.preconditions ?? {};
    checkPreconditions(key, current, {
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    });
    const existing = current.metadata.finalizers ?? [];
    const finalizers = finalizersAfterDelete(existing, options, defaultPropagation(type));
    const spec = (current.spec ?? {}) as { finalizers?: string[] };
    const grace = type.kind === 'Pod' ? podGracePeriod(current, options.gracePeriodSeconds) : 0;
    const namespaceFinalizing = type.kind === 'Namespace' && (spec.finalizers ?? []).length > 0;
    if (finalizers.length === 0 && grace === 0 && !namespaceFinalizing) {
      if (dry) return { object: current, deleted: true };
      return { object: await removeStored(ctx, type, key, current), deleted: true };
    }
    const deleting = current.metadata.deletionTimestamp !== undefined;
    const shorter = deleting && grace < (current.metadata.deletionGracePeriodSeconds ?? 0);
    if (deleting && !shorter && sameSet(finalizers, existing)) return { object: current, deleted: false };
    const metadata = {
      ...current.metadata,
      finalizers,
      deletionTimestamp:
        deleting && !shorter
          ? (current.metadata.deletionTimestamp as string)
          : timestamp(new Date(ctx.now().getTime() + grace * 1000)),
      deletionGracePeriodSeconds:
        deleting && !shorter ? (current.metadata.deletionGracePeriodSeconds ?? 0) : grace,
    };
    if (finalizers.length === 0) delete (metadata as { finalizers?: string[] }).finalizers;
    const marked: KubernetesObject = { ...current, metadata };
    if (type.kind === 'Namespace') marked.status = { ...(current.status as object), phase: 'Terminating' };
    if (dry) return { object: marked, deleted: false };
    try {
      return { object: await ctx.store.update(key, marked, revisionOf(current)), deleted: false };
    } catch (error) {
      if (resourceVersion || attempt >= 10 || !isReason(error, StatusReason.Conflict)) throw error;
    }
  }
}

export async function deleteResource(
  { type, info, request }: ResourceRequest,
  ctx: RestContext,
): Promise<ApiResponse> {
  if (info.subresource !== undefined) throw methodNotAllowed();
  const options = deleteOptions(request);
  const dry = dryRun(request);
  if (info.name === undefined) {
    const { items } = await listObjects({ type, info, request }, ctx);
    const deleted: KubernetesObject[] = [];
    for (const item of items) {
      try {
        deleted.push(
          (
            await deleteOne(
              type,
              storeKey(type, { ...info, namespace: item.metadata.namespace }, item.metadata.name),
              options,
              ctx,
              dry,
            )
          ).object,
        );
      } catch (error) {
        if (!isReason(error, StatusReason.NotFound)) throw error;
      }
    }
    return json(200, {
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata: {},
      items: deleted,
    });
  }
  const { object, deleted } = await deleteOne(type, storeKey(type, info), options, ctx, dry);
  return json(200, deleted ? deletedStatus(type, object) : object);
}
