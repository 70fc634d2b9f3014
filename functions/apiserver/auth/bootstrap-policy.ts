/**
 * The default ClusterRoles and ClusterRoleBindings, as kube-apiserver's bootstrap policy
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), for the resources this server serves:
 * `cluster-admin`; the user-facing `admin`, `edit` and `view`, aggregated from
 * `system:aggregate-to-*`; what every user may ask about themselves and the server; and one role for
 * each control-plane component, granting only the calls its code makes.
 */
import { resourceTypes } from '../../../shared/api/resources.js';
import { aggregatedRules } from './rbac.js';
import type { PolicyRule, Role, RoleBinding, Subject } from './types.js';

const rbacGroup = 'rbac.authorization.k8s.io';
const apiVersion = `${rbacGroup}/v1`;

const read = ['get', 'list', 'watch'];
const write = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const readWrite = [...read, ...write];

/** The label every default object carries, and the annotation that lets the server restore it. */
const defaultsLabel = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const autoupdate = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

const aggregateTo = (role: 'admin' | 'edit' | 'view') => `${rbacGroup}/aggregate-to-${role}`;

const masters = 'system:masters';
const authenticated = 'system:authenticated';
const unauthenticated = 'system:unauthenticated';

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

/**
 * What an event recorder does: create an Event, and for a repeat read it and count it (patch, as
 * upstream's eventsRule, for recorders that patch the count). Only core Events: events.k8s.io is
 * not served.
 */
const eventsRule = rule(['create', 'get', 'update', 'patch'], [''], ['events']);

/**
 * One rule per API group naming every kind this server stores: what the namespace controller
 * (list and delete every namespaced kind) and the garbage collector (read owners, list, unlink and
 * delete dependents of every kind) need, kept in step with the resource table they walk.
 */
function everyKind(verbs: string[]): PolicyRule[] {
  const groups = new Map<string, string[]>();
  for (const type of resourceTypes) {
    groups.set(type.group, [...(groups.get(type.group) ?? []), type.resource]);
  }
  return [...groups].map(([group, resources]) => rule(verbs, [group], resources));
}

/**
 * The control plane's identities, each `system:<component>` (functions/registry.ts names the
 * components; functions/runtime/in-process.ts makes the user), with the calls their code makes
 * through the API. Nothing watches: streams wake the controllers, so no role has `watch`.
 */
const componentRules: Record<string, PolicyRule[]> = {
  // functions/scheduler: reads pending pods and the nodes, binds, marks the unschedulable.
  'kube-scheduler': [
    eventsRule,
    rule(['get', 'list'], [''], ['pods']),
    rule(['list'], [''], ['nodes']),
    rule(['create'], [''], ['pods/binding']),
    rule(['update'], [''], ['pods/status']),
  ],
  // functions/controllers: every controller of the controller manager, in one role as upstream's
  // kube-controller-manager with its shared credentials.
  'kube-controller-manager': [
    eventsRule,
    // Namespace deletion and garbage collection, on every kind.
    ...everyKind(['get', 'list', 'patch', 'delete']),
    rule(['update'], [''], ['namespaces/status', 'namespaces/finalize']),
    // Deployments → ReplicaSets → pods, and Jobs → pods (adoption and release are patches).
    rule(['update'], ['apps'], ['deployments', 'deployments/status']),
    rule(['create', 'update'], ['apps'], ['replicasets']),
    rule(['update'], ['apps'], ['replicasets/status']),
    rule(['update'], ['batch'], ['jobs/status']),
    rule(['create'], [''], ['pods']),
    // Node lifecycle: conditions and taints; pods of a silent node not Ready; PodGC marks pods Failed.
    rule(['update'], [''], ['nodes', 'nodes/status', 'pods/status']),
    // Endpoints and EndpointSlices of Services.
    rule(['create', 'update'], [''], ['endpoints']),
    rule(['create', 'update'], ['discovery.k8s.io'], ['endpointslices']),
    // The serviceaccount and root-ca-cert-publisher controllers.
    rule(['create'], [''], ['serviceaccounts']),
    rule(['create', 'update'], [''], ['configmaps']),
  ],
  // functions/notifier: finds a pod's node to make its queue, and every node to tell of Services.
  'lambernetes-notifier': [eventsRule, rule(['get', 'list'], [''], ['nodes'])],
  // functions/cloud: deletes nodes whose instance is gone, stamps and cordons nodes, drains by eviction.
  'cloud-controller-manager': [
    eventsRule,
    rule(['list', 'patch', 'delete'], [''], ['nodes']),
    rule(['list'], [''], ['pods']),
    rule(['create'], [''], ['pods/eviction']),
  ],
};

/** The control plane's own users (`system:<component>`). */
export const controlPlaneUsers: ReadonlySet<string> = new Set(
  Object.keys(componentRules).map((component) => `system:${component}`),
);

interface ClusterRoleSpec {
  name: string;
  rules?: PolicyRule[];
  labels?: Record<string, string>;
  /** Aggregated: the rules of the ClusterRoles with this label set to "true". */
  aggregates?: string;
}

const clusterRoleSpecs: ClusterRoleSpec[] = [
  // A "root" role which can do absolutely anything.
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  // Just enough to tell whether the server is ready and to discover the API for negotiation.
  {
    name: 'system:discovery',
    rules: [
      urls(
        ['get'],
        [
          '/livez',
          '/readyz',
          '/healthz',
          '/version',
          '/version/',
          '/openapi',
          '/openapi/*',
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
        ],
      ),
    ],
  },
  // What a user may learn about themselves: `kubectl auth can-i` (with --list) and `kubectl auth whoami`.
  {
    name: 'system:basic-user',
    rules: [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  // Insensitive information anyone may read, signed in or not.
  {
    name: 'system:public-info-viewer',
    rules: [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/'])],
  },
  // A namespace's admin: edit, plus granting permissions within the namespace.
  { name: 'admin', aggregates: aggregateTo('admin') },
  // A namespace's editor: every user-level action, but not the system's (status) nor granting access.
  { name: 'edit', labels: { [aggregateTo('admin')]: 'true' }, aggregates: aggregateTo('edit') },
  // A namespace's viewer: read-only, and nothing that would reveal credentials (no secrets, no exec).
  { name: 'view', labels: { [aggregateTo('edit')]: 'true' }, aggregates: aggregateTo('view') },
  {
    name: 'system:aggregate-to-admin',
    labels: { [aggregateTo('admin')]: 'true' },
    rules: [rule(readWrite, [rbacGroup], ['roles', 'rolebindings'])],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: { [aggregateTo('edit')]: 'true' },
    rules: [
      // Reading what escalates: credentials, and commands in containers (the websocket upgrade is a get).
      rule(read, [''], ['pods/exec', 'secrets']),
      rule(write, [''], ['pods', 'pods/exec']),
      rule(['create'], [''], ['pods/eviction']),
      // Not endpoints: as upstream since 1.22, editors cannot point a Service anywhere (CVE-2021-25740).
      rule(write, [''], ['serviceaccounts', 'services', 'configmaps', 'secrets']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(write, ['apps'], ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale']),
      rule(write, ['batch'], ['jobs']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: { [aggregateTo('view')]: 'true' },
    rules: [
      rule(read, [''], ['pods', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'configmaps']),
      rule(read, [''], ['events', 'pods/status', 'pods/log', 'namespaces/status']),
      // Reading namespaces in a namespace means reading that one: a sign of where one has access.
      rule(read, [''], ['namespaces']),
      rule(read, ['discovery.k8s.io'], ['endpointslices']),
      rule(
        read,
        ['apps'],
        [
          'deployments',
          'deployments/status',
          'deployments/scale',
          'replicasets',
          'replicasets/status',
          'replicasets/scale',
        ],
      ),
      rule(read, ['batch'], ['jobs', 'jobs/status']),
    ],
  },
  ...Object.entries(componentRules).map(([component, rules]) => ({ name: `system:${component}`, rules })),
];

function metadata(name: string, labels: Record<string, string> = {}) {
  return { name, labels: { ...defaultsLabel, ...labels }, annotations: { ...autoupdate } };
}

/**
 * The default ClusterRoles, each a complete object. `admin`, `edit` and `view` carry the rules they
 * aggregate, as upstream's aggregation controller writes them.
 */
export function bootstrapClusterRoles(): Role[] {
  const roles: Role[] = clusterRoleSpecs.map((spec) => ({
    apiVersion,
    kind: 'ClusterRole',
    metadata: metadata(spec.name, spec.labels),
    ...(spec.aggregates
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [spec.aggregates]: 'true' } }] } }
      : {}),
    rules: structuredClone(spec.rules ?? []),
  }));
  return roles.map((role) =>
    role.aggregationRule ? { ...role, rules: structuredClone(aggregatedRules(role, roles)) } : role,
  );
}

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: rbacGroup, name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: rbacGroup, name });

function clusterRoleBinding(name: string, subjects: Subject[]): RoleBinding {
  return {
    apiVersion,
    kind: 'ClusterRoleBinding',
    metadata: metadata(name),
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name },
    subjects,
  };
}

/** The default ClusterRoleBindings: each binds the ClusterRole of its name. */
export function bootstrapClusterRoleBindings(): RoleBinding[] {
  return [
    clusterRoleBinding('cluster-admin', [group(masters)]),
    clusterRoleBinding('system:discovery', [group(authenticated)]),
    clusterRoleBinding('system:basic-user', [group(authenticated)]),
    clusterRoleBinding('system:public-info-viewer', [group(authenticated), group(unauthenticated)]),
    ...Object.keys(componentRules).map((component) =>
      clusterRoleBinding(`system:${component}`, [user(`system:${component}`)]),
    ),
  ];
}
