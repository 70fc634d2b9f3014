/**
 * The resources whose OpenAPI this server publishes. Kept structurally compatible with the API
 * server's resource table (`group`, `version`, `resource`, `kind`, `namespaced`, `subresources`), so
 * that table can be passed where this one is used.
 */

export type OpenApiSubresource = 'status' | 'scale' | 'binding';

export interface OpenApiResource {
  group: string;
  version: string;
  /** Plural, lower case: the path segment (`deployments`). */
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources?: readonly OpenApiSubresource[];
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export const openApiResources: readonly OpenApiResource[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, subresources: ['status'] },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, subresources: ['status', 'binding'] },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, subresources: ['status'] },
  { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, subresources: ['status'] },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    subresources: ['status', 'scale'],
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    subresources: ['status', 'scale'],
  },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true, subresources: ['status'] },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
  },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    kind: 'RoleBinding',
    namespaced: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    namespaced: false,
  },
];

/** Kinds a subresource speaks, when not the resource's own kind. */
export const subresourceKinds: Readonly<Record<'scale' | 'binding', GroupVersionKind>> = {
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  binding: { group: '', version: 'v1', kind: 'Binding' },
};

/** The apimachinery definitions the API itself speaks (errors, lists, watch, delete, discovery). */
export const metaDefinitions: readonly string[] = [
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup',
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList',
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResource',
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList',
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions',
  'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta',
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
  'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
  'io.k8s.apimachinery.pkg.version.Info',
];

/** `api/v1` for the core group, `apis/<group>/<version>` otherwise: the path kubectl asks OpenAPI v3 for. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

export function apiVersionOf(gvk: { group: string; version: string }): string {
  return gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
}
