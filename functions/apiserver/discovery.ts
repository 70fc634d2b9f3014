import {
  apiGroups,
  apiVersionOf,
  type ResourceType,
  type Subresource,
  servedTypes,
  standardVerbs,
  subresourceKinds,
  subresourceVerbs,
} from '../../shared/api/resources.js';

/** The version this server reports; kubectl's dispatcher picks its client version from it. */
export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-lambernetes',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-11-01T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** The media type of aggregated discovery (one request for every group's resources). */
export const aggregatedDiscoveryType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** The kinds upstream's discovery names for the kubelet's subresources, which have no body of their own. */
const connectKinds = {
  log: { group: '', version: 'v1', kind: 'Pod' },
  exec: { group: '', version: 'v1', kind: 'PodExecOptions' },
} as const;

/**
 * What a subresource of `type` speaks: its own kind (status, finalize), another (scale, binding,
 * eviction), or what upstream names for a connection to the kubelet (log, exec).
 */
function subresourceTarget(type: ResourceType, sub: Subresource) {
  const kind =
    sub === 'status' || sub === 'finalize'
      ? { group: type.group, version: type.version, kind: type.kind }
      : sub === 'log' || sub === 'exec'
        ? connectKinds[sub]
        : subresourceKinds[sub];
  return { kind, verbs: [...subresourceVerbs[sub]] };
}

function typesOf(group: string, version: string): ResourceType[] {
  return servedTypes.filter((t) => t.group === group && t.version === version);
}

function groupVersionEntry(group: string, version: string) {
  return { groupVersion: apiVersionOf({ group, version }), version };
}

/** `/api`: the core group's versions. */
export function coreVersions() {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }],
  };
}

function apiGroup(group: string, versions: string[]) {
  const entries = versions.map((v) => groupVersionEntry(group, v));
  return { name: group, versions: entries, preferredVersion: entries[0] };
}

/** `/apis`: every named group. */
export function groupList() {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: apiGroups()
      .filter((g) => g.group !== '')
      .map((g) => apiGroup(g.group, g.versions)),
  };
}

/** `/apis/<group>`. */
export function groupDocument(group: string) {
  const found = apiGroups().find((g) => g.group === group && group !== '');
  return found && { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(found.group, found.versions) };
}

/** `/api/v1`, `/apis/<group>/<version>`: the resources of one group version. */
export function resourceList(group: string, version: string) {
  const types = typesOf(group, version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources: types.flatMap((t) => [
      {
        name: t.resource,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: [...(t.verbs ?? standardVerbs)],
        ...(t.shortNames ? { shortNames: t.shortNames } : {}),
        ...(t.categories ? { categories: t.categories } : {}),
      },
      ...(t.subresources ?? []).map((sub) => {
        const target = subresourceTarget(t, sub);
        return {
          name: `${t.resource}/${sub}`,
          singularName: '',
          namespaced: t.namespaced,
          ...(sub === 'status' || sub === 'finalize'
            ? {}
            : { group: target.kind.group, version: target.kind.version }),
          kind: target.kind.kind,
          verbs: target.verbs,
        };
      }),
    ]),
  };
}

/** Aggregated discovery for `/api` (core) or `/apis` (named groups). */
export function aggregatedDiscovery(core: boolean) {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: apiGroups()
      .filter((g) => (g.group === '') === core)
      .map((g) => ({
        metadata: { name: g.group },
        versions: g.versions.map((version) => ({
          version,
          resources: typesOf(g.group, version).map((t) => ({
            resource: t.resource,
            responseKind: { group: t.group, version: t.version, kind: t.kind },
            scope: t.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: t.singular,
            verbs: [...(t.verbs ?? standardVerbs)],
            ...(t.shortNames ? { shortNames: t.shortNames } : {}),
            ...(t.categories ? { categories: t.categories } : {}),
            ...(t.subresources
              ? {
                  subresources: t.subresources.map((sub) => {
                    const target = subresourceTarget(t, sub);
                    return { subresource: sub, responseKind: target.kind, verbs: target.verbs };
                  }),
                }
              : {}),
          })),
          freshness: 'Current',
        })),
      })),
  };
}
