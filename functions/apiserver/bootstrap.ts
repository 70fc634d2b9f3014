import { ApiError, StatusReason } from '../../shared/api/errors.js';
import { findResourceType, qualifiedResource, type ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { Store } from '../../shared/store/store.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './auth/bootstrap-policy.js';
import { createResource, type RestContext } from './rest.js';

/** The namespaces every cluster has. */
export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * What every cluster starts with: the system namespaces and the default ClusterRoles and
 * ClusterRoleBindings (kube-apiserver's bootstrap policy), each created if it is missing through the
 * same create path as a request. Reads first (a running cluster pays three reads); safe to run
 * concurrently: a lost race is a 409. Existing objects are left as their owners changed them.
 */
export async function ensureClusterDefaults(store: Store, now: () => Date = () => new Date()): Promise<void> {
  const ctx: RestContext = { store, now, maxWatchSeconds: 0 };
  await ensureObjects(
    ctx,
    type('', 'namespaces'),
    systemNamespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  );
  await ensureObjects(ctx, type('rbac.authorization.k8s.io', 'clusterroles'), bootstrapClusterRoles());
  await ensureObjects(
    ctx,
    type('rbac.authorization.k8s.io', 'clusterrolebindings'),
    bootstrapClusterRoleBindings(),
  );
}

function type(group: string, resource: string): ResourceType {
  return findResourceType(group, 'v1', resource) as ResourceType;
}

async function ensureObjects(ctx: RestContext, type: ResourceType, objects: KubernetesObject[]) {
  const { items } = await ctx.store.list({ resource: qualifiedResource(type) });
  const existing = new Set(items.map((o) => o.metadata.name));
  for (const object of objects) {
    if (existing.has(object.metadata.name)) continue;
    const response = await createResource(
      {
        type,
        info: { group: type.group, version: type.version, resource: type.resource },
        request: {
          method: 'POST',
          path: '',
          query: new URLSearchParams(),
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify(object)),
          signal: new AbortController().signal,
        },
      },
      ctx,
    ).catch((error: unknown) => {
      if (error instanceof ApiError && error.reason === StatusReason.AlreadyExists) return undefined;
      throw error;
    });
    if (response && response.status !== 201)
      throw new Error(`could not create ${type.kind} ${object.metadata.name}: ${response.status}`);
  }
}
