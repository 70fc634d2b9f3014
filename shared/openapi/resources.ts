import {
  apiVersionOf,
  type ResourceType,
  resourceTypes,
  type Subresource,
  subresourceKinds,
  subresourceVerbs,
} from '../api/resources.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The resources whose OpenAPI this server publishes: every resource type it serves. */
export type OpenApiResource = ResourceType;
export const openApiResources: readonly OpenApiResource[] = resourceTypes;

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

/**
 * The kind a subresource's body and response are: its own (`Scale`, `Binding`, `Eviction`,
 * `TokenRequest`) or, for `status` and `finalize`, the parent's.
 */
export function subresourceKind(parent: GroupVersionKind, sub: Subresource): GroupVersionKind {
  const own: Partial<Record<Subresource, GroupVersionKind>> = subresourceKinds;
  return own[sub] ?? { group: parent.group, version: parent.version, kind: parent.kind };
}

export { apiVersionOf, type Subresource, subresourceKinds, subresourceVerbs };
