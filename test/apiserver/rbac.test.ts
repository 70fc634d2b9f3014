import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bootstrapClusterRoleBindings,
  bootstrapClusterRoles,
} from '../../functions/apiserver/auth/bootstrap-policy.js';
import {
  aggregatedRules,
  atomicRules,
  createRbacAuthorizer,
  type RbacPolicy,
  rbacDecision,
  ruleAllows,
  rulesFor,
  subjectMatches,
  uncoveredRules,
} from '../../functions/apiserver/auth/rbac.js';
import {
  Decision,
  type PolicyRule,
  type RequestAttributes,
  type Role,
  type RoleBinding,
  type Subject,
  type User,
} from '../../functions/apiserver/auth/types.js';
import type { Ec2Cloud } from '../../functions/cloud/ec2.js';
import type { CloudControllerConfig } from '../../functions/cloud/index.js';
import type { NodeQueues } from '../../functions/notifier/queues.js';
import { controlFunctions } from '../../functions/registry.js';
import type { LabelSelectorRequirement } from '../../shared/api/core.js';
import { resourceTypes } from '../../shared/api/resources.js';
import type { Store } from '../../shared/store/store.js';

const rbacGroup = 'rbac.authorization.k8s.io';

const alice: User = { name: 'alice', groups: ['system:authenticated', 'developers'] };

interface Target {
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

function request(user: User, verb: string, resource: string, target: Target = {}): RequestAttributes {
  return {
    user,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup: target.group ?? '',
    apiVersion: 'v1',
    resource,
    subresource: target.subresource ?? '',
    namespace: target.namespace ?? '',
    name: target.name ?? '',
  };
}

function nonResource(user: User, verb: string, path: string): RequestAttributes {
  return {
    user,
    verb,
    resourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

function policy(parts: Partial<RbacPolicy>): RbacPolicy {
  return { clusterRoles: [], clusterRoleBindings: [], roles: [], roleBindings: [], ...parts };
}

function clusterRole(name: string, rules: PolicyRule[], extra: Partial<Role> = {}): Role {
  return { ...extra, metadata: { name, ...extra.metadata }, rules };
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { metadata: { name, namespace }, rules };
}

function bindingOf(
  name: string,
  roleRef: RoleBinding['roleRef'],
  subjects: Subject[],
  namespace?: string,
): RoleBinding {
  return { metadata: { name, ...(namespace ? { namespace } : {}) }, roleRef, subjects };
}

const clusterRoleRef = (name: string) => ({ apiGroup: rbacGroup, kind: 'ClusterRole' as const, name });
const roleRef = (name: string) => ({ apiGroup: rbacGroup, kind: 'Role' as const, name });
const userSubject = (name: string): Subject => ({ kind: 'User', apiGroup: rbacGroup, name });

const allowed = (p: RbacPolicy, attributes: RequestAttributes) =>
  rbacDecision(p, attributes).decision === Decision.Allow;

describe('rule matching', () => {
  const pods = (attributes: Partial<Target> & { verb?: string; resource?: string } = {}) =>
    request(alice, attributes.verb ?? 'get', attributes.resource ?? 'pods', {
      namespace: 'default',
      ...attributes,
    });

  it('matches a verb, group and resource exactly, or through `*`', () => {
    const exact: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
    expect(ruleAllows(exact, pods())).toBe(true);
    expect(ruleAllows(exact, pods({ verb: 'list' }))).toBe(false);
    expect(ruleAllows(exact, pods({ group: 'apps' }))).toBe(false);
    expect(ruleAllows(exact, pods({ resource: 'secrets' }))).toBe(false);
    expect(ruleAllows({ verbs: ['*'], apiGroups: [''], resources: ['pods'] }, pods({ verb: 'delete' }))).toBe(
      true,
    );
    expect(
      ruleAllows({ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }, pods({ group: 'x.io' })),
    ).toBe(true);
    expect(
      ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*'] }, pods({ resource: 'secrets' })),
    ).toBe(true);
  });

  it('matches a subresource only by its combined name, `*/subresource` or `*`', () => {
    const status = pods({ verb: 'update', subresource: 'status', name: 'web' });
    expect(ruleAllows({ verbs: ['update'], apiGroups: [''], resources: ['pods'] }, status)).toBe(false);
    expect(ruleAllows({ verbs: ['update'], apiGroups: [''], resources: ['pods/status'] }, status)).toBe(true);
    expect(ruleAllows({ verbs: ['update'], apiGroups: [''], resources: ['*/status'] }, status)).toBe(true);
    expect(ruleAllows({ verbs: ['update'], apiGroups: [''], resources: ['*/scale'] }, status)).toBe(false);
    expect(ruleAllows({ verbs: ['update'], apiGroups: [''], resources: ['*'] }, status)).toBe(true);
    // `*/status` names a subresource: the resource itself is not matched.
    expect(
      ruleAllows({ verbs: ['update'], apiGroups: [''], resources: ['*/status'] }, pods({ verb: 'update' })),
    ).toBe(false);
    expect(
      ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods/status'] }, pods({ name: 'web' })),
    ).toBe(false);
  });

  it('with resourceNames, allows only requests naming a listed object: get yes, list and unnamed create no', () => {
    const named: PolicyRule = {
      verbs: ['get', 'list', 'create'],
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['settings'],
    };
    const configmaps = (verb: string, name = '') =>
      request(alice, verb, 'configmaps', { namespace: 'default', name });
    expect(ruleAllows(named, configmaps('get', 'settings'))).toBe(true);
    expect(ruleAllows(named, configmaps('get', 'other'))).toBe(false);
    expect(ruleAllows(named, configmaps('list'))).toBe(false);
    expect(ruleAllows(named, configmaps('create'))).toBe(false);
    expect(ruleAllows({ ...named, resourceNames: [] }, configmaps('list'))).toBe(true);
  });

  it('matches non-resource URLs exactly or by a trailing-`*` prefix, and only for non-resource requests', () => {
    const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(ruleAllows(rule, nonResource(alice, 'get', '/healthz'))).toBe(true);
    expect(ruleAllows(rule, nonResource(alice, 'get', '/healthz/etcd'))).toBe(false);
    expect(ruleAllows(rule, nonResource(alice, 'get', '/apis/apps/v1'))).toBe(true);
    expect(ruleAllows(rule, nonResource(alice, 'get', '/apis'))).toBe(false);
    expect(ruleAllows(rule, nonResource(alice, 'post', '/healthz'))).toBe(false);
    expect(ruleAllows({ verbs: ['*'], nonResourceURLs: ['*'] }, nonResource(alice, 'delete', '/x'))).toBe(
      true,
    );
    // A resource rule never allows a path, and a path rule never a resource.
    expect(
      ruleAllows({ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, nonResource(alice, 'get', '/api')),
    ).toBe(false);
    expect(ruleAllows({ verbs: ['get'], nonResourceURLs: ['*'] }, pods())).toBe(false);
  });
});

describe('subjects', () => {
  const builder: User = { name: 'system:serviceaccount:ci:builder', groups: ['system:serviceaccounts'] };

  it('match a user by name and a group by membership', () => {
    expect(subjectMatches(userSubject('alice'), alice, '')).toBe(true);
    expect(subjectMatches(userSubject('bob'), alice, '')).toBe(false);
    expect(subjectMatches({ kind: 'Group', name: 'developers' }, alice, '')).toBe(true);
    expect(subjectMatches({ kind: 'Group', name: 'alice' }, alice, '')).toBe(false);
  });

  it("match a service account in its namespace, which defaults to the binding's", () => {
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder', namespace: 'ci' }, builder, '')).toBe(
      true,
    );
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder' }, builder, 'ci')).toBe(true);
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder' }, builder, 'prod')).toBe(false);
    // In a ClusterRoleBinding there is no namespace to default to.
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'builder' }, builder, '')).toBe(false);
    expect(subjectMatches({ kind: 'User', name: 'builder' }, builder, 'ci')).toBe(false);
  });
});

describe('the RBAC authorizer', () => {
  const podReader = clusterRole('pod-reader', [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
  ]);

  it('allows through a ClusterRoleBinding in every namespace, saying which binding allows', async () => {
    const authorize = createRbacAuthorizer(async () =>
      policy({
        clusterRoles: [podReader],
        clusterRoleBindings: [bindingOf('read-pods', clusterRoleRef('pod-reader'), [userSubject('alice')])],
      }),
    );
    const answer = await authorize(request(alice, 'list', 'pods', { namespace: 'anywhere' }));
    expect(answer).toEqual({
      decision: Decision.Allow,
      reason: 'RBAC: allowed by ClusterRoleBinding "read-pods" of ClusterRole "pod-reader" to User "alice"',
    });
    expect((await authorize(request(alice, 'list', 'pods'))).decision).toBe(Decision.Allow);
    expect(await authorize(request(alice, 'delete', 'pods', { namespace: 'anywhere', name: 'x' }))).toEqual({
      decision: Decision.NoOpinion,
      reason: '',
    });
  });

  it('applies a RoleBinding to a ClusterRole in the binding namespace only', () => {
    const p = policy({
      clusterRoles: [podReader],
      roleBindings: [
        bindingOf(
          'ci-reads-pods',
          clusterRoleRef('pod-reader'),
          [{ kind: 'ServiceAccount', name: 'builder' }],
          'ci',
        ),
      ],
    });
    const builder: User = { name: 'system:serviceaccount:ci:builder', groups: [] };
    expect(rbacDecision(p, request(builder, 'get', 'pods', { namespace: 'ci', name: 'x' }))).toEqual({
      decision: Decision.Allow,
      reason:
        'RBAC: allowed by RoleBinding "ci-reads-pods/ci" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"',
    });
    expect(allowed(p, request(builder, 'get', 'pods', { namespace: 'prod', name: 'x' }))).toBe(false);
    expect(allowed(p, request(builder, 'list', 'pods'))).toBe(false);
  });

  it("applies a RoleBinding to a Role of the binding's namespace, not a Role of that name elsewhere", () => {
    const p = policy({
      roles: [
        role('team', 'deployer', [{ verbs: ['create'], apiGroups: ['apps'], resources: ['deployments'] }]),
        role('other', 'secret-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]),
      ],
      roleBindings: [
        bindingOf('alice-deploys', roleRef('deployer'), [userSubject('alice')], 'team'),
        bindingOf('alice-reads', roleRef('secret-reader'), [userSubject('alice')], 'team'),
      ],
    });
    expect(allowed(p, request(alice, 'create', 'deployments', { group: 'apps', namespace: 'team' }))).toBe(
      true,
    );
    expect(allowed(p, request(alice, 'get', 'secrets', { namespace: 'team', name: 's' }))).toBe(false);
    expect(allowed(p, request(alice, 'get', 'secrets', { namespace: 'other', name: 's' }))).toBe(false);
  });

  it('grants nothing through a binding to a role that does not exist, and says so', () => {
    const p = policy({
      clusterRoleBindings: [bindingOf('dangling', clusterRoleRef('gone'), [userSubject('alice')])],
      roleBindings: [bindingOf('dangling-role', roleRef('gone-too'), [userSubject('alice')], 'team')],
    });
    expect(rbacDecision(p, request(alice, 'get', 'pods', { namespace: 'team', name: 'x' }))).toEqual({
      decision: Decision.NoOpinion,
      reason:
        'RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "gone-too" not found]',
    });
  });

  it('finds no Role through a ClusterRoleBinding (it may only refer to ClusterRoles)', () => {
    const p = policy({
      roles: [role('', 'sneaky', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])],
      clusterRoleBindings: [bindingOf('sneaky', roleRef('sneaky'), [userSubject('alice')])],
    });
    expect(allowed(p, request(alice, 'get', 'pods', { namespace: 'x', name: 'y' }))).toBe(false);
  });

  it('reads the policy on every request (a new snapshot counts at once)', async () => {
    let current = policy({});
    const authorize = createRbacAuthorizer(async () => current);
    const attributes = request(alice, 'get', 'pods', { namespace: 'default', name: 'web' });
    expect((await authorize(attributes)).decision).toBe(Decision.NoOpinion);
    current = policy({
      clusterRoles: [podReader],
      clusterRoleBindings: [
        bindingOf('read-pods', clusterRoleRef('pod-reader'), [{ kind: 'Group', name: 'developers' }]),
      ],
    });
    expect((await authorize(attributes)).decision).toBe(Decision.Allow);
  });
});

describe('aggregated ClusterRoles', () => {
  const readPods: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
  const readJobs: PolicyRule = { verbs: ['get'], apiGroups: ['batch'], resources: ['jobs'] };
  const readSecrets: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['secrets'] };
  const labelled = (name: string, labels: Record<string, string>, rules: PolicyRule[]) =>
    clusterRole(name, rules, { metadata: { name, labels } });

  it('take the rules of every ClusterRole a selector matches, by labels and expressions', () => {
    const monitoring: Role = {
      metadata: { name: 'monitoring' },
      aggregationRule: {
        clusterRoleSelectors: [
          {
            matchLabels: { team: 'ops' },
            matchExpressions: [{ key: 'tier', operator: 'In', values: ['read'] }],
          },
          { matchExpressions: [{ key: 'legacy', operator: 'Exists' }] },
        ],
      },
      rules: [readSecrets], // stored rules are only a copy of the aggregation: they do not count
    };
    const roles = [
      monitoring,
      labelled('ops-read', { team: 'ops', tier: 'read' }, [readPods]),
      labelled('ops-write', { team: 'ops', tier: 'write' }, [
        { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
      ]),
      labelled('old', { legacy: '' }, [readJobs, readPods]),
      labelled('unrelated', { team: 'dev', tier: 'read' }, [readSecrets]),
    ];
    expect(aggregatedRules(monitoring, roles)).toEqual([readPods, readJobs]);
  });

  it('select by NotIn and DoesNotExist, an absent label counting as not in', () => {
    const selecting = (operator: LabelSelectorRequirement['operator'], values?: string[]): Role => ({
      metadata: { name: 'aggregate' },
      aggregationRule: {
        clusterRoleSelectors: [
          { matchExpressions: [{ key: 'env', operator, ...(values ? { values } : {}) }] },
        ],
      },
    });
    const roles = [
      labelled('prod', { env: 'prod' }, [readSecrets]),
      labelled('dev', { env: 'dev' }, [readJobs]),
      clusterRole('plain', [readPods]),
    ];
    expect(aggregatedRules(selecting('NotIn', ['prod']), roles)).toEqual([readJobs, readPods]);
    expect(aggregatedRules(selecting('DoesNotExist'), roles)).toEqual([readPods]);
    expect(aggregatedRules(selecting('Exists'), roles)).toEqual([readSecrets, readJobs]);
    // An operator the API does not know (stored objects are not re-validated) selects nothing.
    expect(aggregatedRules(selecting('Sideways' as never, ['prod']), roles)).toEqual([]);
  });

  it('aggregate in turn (admin takes edit, which takes view) and stop at a cycle', () => {
    const a: Role = {
      metadata: { name: 'a', labels: { into: 'b' } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { into: 'a' } }] },
    };
    const b: Role = {
      metadata: { name: 'b', labels: { into: 'a' } },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { into: 'b' } }] },
    };
    const base = labelled('base', { into: 'b' }, [readPods]);
    const top: Role = {
      metadata: { name: 'top' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { into: 'a' } }] },
    };
    // top ← b ← (a ← b: cycle, stops) + base
    expect(aggregatedRules(top, [top, a, b, base])).toEqual([readPods]);
  });

  it('grant their aggregated rules through bindings', () => {
    const p = policy({
      clusterRoles: [
        {
          metadata: { name: 'reader' },
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { read: 'true' } }] },
        },
        labelled('pod-reading', { read: 'true' }, [readPods]),
      ],
      clusterRoleBindings: [bindingOf('alice-reads', clusterRoleRef('reader'), [userSubject('alice')])],
    });
    expect(allowed(p, request(alice, 'get', 'pods', { namespace: 'x', name: 'y' }))).toBe(true);
    expect(allowed(p, request(alice, 'get', 'secrets', { namespace: 'x', name: 'y' }))).toBe(false);
  });
});

describe('rulesFor', () => {
  const ruleOf = (resource: string): PolicyRule => ({
    verbs: ['get'],
    apiGroups: [''],
    resources: [resource],
  });
  const p = policy({
    clusterRoles: [clusterRole('nodes', [ruleOf('nodes')]), clusterRole('pods', [ruleOf('pods')])],
    roles: [role('a', 'configmaps', [ruleOf('configmaps')]), role('b', 'secrets', [ruleOf('secrets')])],
    clusterRoleBindings: [
      bindingOf('nodes', clusterRoleRef('nodes'), [{ kind: 'Group', name: 'developers' }]),
      bindingOf('not-alice', clusterRoleRef('pods'), [userSubject('bob')]),
    ],
    roleBindings: [
      bindingOf('configmaps', roleRef('configmaps'), [userSubject('alice')], 'a'),
      bindingOf('pods', clusterRoleRef('pods'), [userSubject('alice')], 'a'),
      bindingOf('secrets', roleRef('secrets'), [userSubject('alice')], 'b'),
    ],
  });

  it("lists the cluster-wide rules and those of the namespace's bindings", () => {
    expect(rulesFor(alice, 'a', p)).toEqual([ruleOf('nodes'), ruleOf('configmaps'), ruleOf('pods')]);
    expect(rulesFor(alice, 'b', p)).toEqual([ruleOf('nodes'), ruleOf('secrets')]);
  });

  it("lists only the cluster-wide rules for namespace ''", () => {
    expect(rulesFor(alice, '', p)).toEqual([ruleOf('nodes')]);
    expect(rulesFor({ name: 'carol', groups: [] }, 'a', p)).toEqual([]);
  });
});

describe('escalation prevention (uncoveredRules)', () => {
  const getPods: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
  const clusterAdmin: PolicyRule[] = [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    { verbs: ['*'], nonResourceURLs: ['*'] },
  ];

  it('breaks a rule into atoms: verb × group × resource × name, and verb × URL', () => {
    expect(
      atomicRules({
        verbs: ['get', 'list'],
        apiGroups: [''],
        resources: ['pods', 'secrets'],
        resourceNames: ['a'],
      }),
    ).toHaveLength(4);
    expect(atomicRules({ verbs: ['get', 'post'], nonResourceURLs: ['/a', '/b', '/c'] })).toHaveLength(6);
  });

  it('keeps a user with `get pods` from granting `list pods`, or `*` on pods', () => {
    expect(uncoveredRules([getPods], [getPods])).toEqual([]);
    expect(
      uncoveredRules([getPods], [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]),
    ).toEqual([{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }]);
    expect(uncoveredRules([getPods], [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }])).toEqual([
      { verbs: ['*'], apiGroups: [''], resources: ['pods'] },
    ]);
    expect(
      uncoveredRules([getPods], [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }]),
    ).toHaveLength(1);
    expect(
      uncoveredRules([getPods], [{ verbs: ['get'], apiGroups: [''], resources: ['pods/status'] }]),
    ).toHaveLength(1);
  });

  it('lets a cluster-admin grant anything', () => {
    expect(
      uncoveredRules(clusterAdmin, [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*', '*/status'] },
        {
          verbs: ['escalate', 'bind'],
          apiGroups: [rbacGroup],
          resources: ['clusterroles'],
          resourceNames: ['x'],
        },
        { verbs: ['*'], nonResourceURLs: ['*', '/metrics'] },
      ]),
    ).toEqual([]);
  });

  it('narrows by resourceNames: a rule for every object covers some, never the reverse', () => {
    const named = (...resourceNames: string[]): PolicyRule => ({ ...getPods, resourceNames });
    expect(uncoveredRules([getPods], [named('web')])).toEqual([]);
    expect(uncoveredRules([named('web')], [getPods])).toEqual([getPods]);
    expect(uncoveredRules([named('web')], [named('web', 'db')])).toEqual([named('db')]);
  });

  it('covers a subresource by `*/subresource`, but a wildcard asked for only by a wildcard held', () => {
    const statusOfAll: PolicyRule = { verbs: ['update'], apiGroups: ['apps'], resources: ['*/status'] };
    const deploymentStatus: PolicyRule = { ...statusOfAll, resources: ['deployments/status'] };
    expect(uncoveredRules([statusOfAll], [deploymentStatus])).toEqual([]);
    expect(uncoveredRules([deploymentStatus], [statusOfAll])).toEqual([statusOfAll]);
    expect(uncoveredRules([statusOfAll], [{ ...statusOfAll, resources: ['deployments'] }])).toHaveLength(1);
  });

  it('covers a non-resource URL by the same URL or a `*` prefix', () => {
    const owner: PolicyRule[] = [{ verbs: ['get'], nonResourceURLs: ['/apis/*', '/healthz'] }];
    expect(uncoveredRules(owner, [{ verbs: ['get'], nonResourceURLs: ['/apis/apps', '/healthz'] }])).toEqual(
      [],
    );
    expect(uncoveredRules(owner, [{ verbs: ['get'], nonResourceURLs: ['/api'] }])).toEqual([
      { verbs: ['get'], nonResourceURLs: ['/api'] },
    ]);
    expect(uncoveredRules(owner, [{ verbs: ['get'], nonResourceURLs: ['*'] }])).toHaveLength(1);
    // Resource rules never cover a URL.
    expect(
      uncoveredRules(clusterAdmin.slice(0, 1), [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]),
    ).toHaveLength(1);
  });

  // Small alphabets, so that held and asked-for values meet often.
  const verbs = fc.constantFrom('get', 'list', 'delete', '*');
  const groups = fc.constantFrom('', 'apps', '*');
  const resources = fc.constantFrom(
    'pods',
    'pods/status',
    'deployments',
    'deployments/scale',
    '*',
    '*/status',
  );
  const names = fc.constantFrom('a', 'b');
  const paths = fc.constantFrom('/api', '/api/v1', '/apis', '/healthz', '/apisx');
  const subset = <T>(values: fc.Arbitrary<T>, minLength = 1) =>
    fc.uniqueArray(values, { minLength, maxLength: 3 });
  const resourceRule: fc.Arbitrary<PolicyRule> = fc.record({
    verbs: subset(verbs),
    apiGroups: subset(groups),
    resources: subset(resources),
    resourceNames: subset(names, 0),
  });
  const urlRule: fc.Arbitrary<PolicyRule> = fc.record({
    verbs: subset(verbs),
    nonResourceURLs: subset(fc.constantFrom('/api', '/api/*', '/apis*', '/healthz', '*')),
  });
  const rules = fc.array(fc.oneof(resourceRule, urlRule), { maxLength: 4 });

  it('every set of rules covers itself', () => {
    fc.assert(fc.property(rules, (held) => uncoveredRules(held, held).length === 0));
  });

  it('an atom of a concrete request is covered exactly when the rules allow that request', () => {
    const concreteResource = fc.record({
      verb: fc.constantFrom('get', 'list', 'delete'),
      group: fc.constantFrom('', 'apps'),
      resource: fc.constantFrom('pods', 'deployments'),
      subresource: fc.constantFrom('', 'status', 'scale'),
      name: names,
    });
    fc.assert(
      fc.property(rules, concreteResource, (held, { verb, group, resource, subresource, name }) => {
        const combined = subresource ? `${resource}/${subresource}` : resource;
        const atom: PolicyRule = {
          verbs: [verb],
          apiGroups: [group],
          resources: [combined],
          resourceNames: [name],
        };
        const attributes = request(alice, verb, resource, { group, subresource, name, namespace: 'x' });
        return (uncoveredRules(held, [atom]).length === 0) === held.some((r) => ruleAllows(r, attributes));
      }),
    );
    fc.assert(
      fc.property(rules, fc.constantFrom('get', 'delete'), paths, (held, verb, path) => {
        const covered = uncoveredRules(held, [{ verbs: [verb], nonResourceURLs: [path] }]).length === 0;
        return covered === held.some((r) => ruleAllows(r, nonResource(alice, verb, path)));
      }),
    );
  });
});

describe('the default policy', () => {
  const roles = bootstrapClusterRoles();
  const bindings = bootstrapClusterRoleBindings();
  const defaults = policy({ clusterRoles: roles, clusterRoleBindings: bindings });
  const roleNamed = (name: string) => roles.find((r) => r.metadata.name === name) as Role;

  it('is made of complete objects, marked as defaults the server may restore', () => {
    for (const object of [...roles, ...bindings]) {
      expect(object.apiVersion).toBe('rbac.authorization.k8s.io/v1');
      expect(object.kind).toBe('roleRef' in object ? 'ClusterRoleBinding' : 'ClusterRole');
      expect(object.metadata.labels).toMatchObject({ 'kubernetes.io/bootstrapping': 'rbac-defaults' });
      expect(object.metadata.annotations).toEqual({ 'rbac.authorization.kubernetes.io/autoupdate': 'true' });
    }
    expect(new Set(roles.map((r) => r.metadata.name)).size).toBe(roles.length);
    expect(new Set(bindings.map((b) => b.metadata.name)).size).toBe(bindings.length);
  });

  it('binds only ClusterRoles that exist, each to someone', () => {
    for (const binding of bindings) {
      expect(binding.roleRef).toEqual({
        apiGroup: rbacGroup,
        kind: 'ClusterRole',
        name: binding.metadata.name,
      });
      expect(roleNamed(binding.roleRef.name)).toBeDefined();
      expect(binding.subjects?.length).toBeGreaterThan(0);
    }
  });

  it('stores admin, edit and view with the rules they aggregate', () => {
    for (const name of ['admin', 'edit', 'view']) {
      const aggregated = roleNamed(name);
      expect(aggregated.aggregationRule?.clusterRoleSelectors).toEqual([
        { matchLabels: { [`${rbacGroup}/aggregate-to-${name}`]: 'true' } },
      ]);
      expect(aggregated.rules?.length).toBeGreaterThan(0);
      expect(aggregated.rules).toEqual(aggregatedRules(aggregated, roles));
    }
    // admin ⊇ edit ⊇ view
    expect(uncoveredRules(roleNamed('admin').rules ?? [], roleNamed('edit').rules ?? [])).toEqual([]);
    expect(uncoveredRules(roleNamed('edit').rules ?? [], roleNamed('view').rules ?? [])).toEqual([]);
    expect(uncoveredRules(roleNamed('view').rules ?? [], roleNamed('edit').rules ?? [])).not.toEqual([]);
  });

  it('returns fresh objects: changing one leaves the next call alone', () => {
    const first = bootstrapClusterRoles();
    (first.find((r) => r.metadata.name === 'view')?.rules ?? []).push({
      verbs: ['*'],
      nonResourceURLs: ['*'],
    });
    (first.find((r) => r.metadata.name === 'system:aggregate-to-view')?.rules?.[0]?.verbs ?? []).push(
      'delete',
    );
    expect(bootstrapClusterRoles()).toEqual(roles);
  });

  /** Bound in namespace `team` to one of the user-facing roles, as `kubectl create rolebinding` would. */
  const boundIn = (name: 'admin' | 'edit' | 'view') =>
    policy({
      clusterRoles: roles,
      clusterRoleBindings: bindings,
      roleBindings: [bindingOf(`alice-${name}`, clusterRoleRef(name), [userSubject('alice')], 'team')],
    });
  const inTeam = (verb: string, resource: string, target: Target = {}) =>
    request(alice, verb, resource, { namespace: 'team', ...target });

  it('lets view read workloads, services, endpoints, configmaps, events and logs, but not secrets', () => {
    const view = boundIn('view');
    expect(allowed(view, inTeam('list', 'pods'))).toBe(true);
    expect(allowed(view, inTeam('get', 'pods', { name: 'web', subresource: 'log' }))).toBe(true);
    expect(allowed(view, inTeam('watch', 'deployments', { group: 'apps' }))).toBe(true);
    expect(allowed(view, inTeam('get', 'jobs', { group: 'batch', name: 'j', subresource: 'status' }))).toBe(
      true,
    );
    for (const resource of ['services', 'endpoints', 'configmaps', 'events']) {
      expect(allowed(view, inTeam('list', resource))).toBe(true);
    }
    expect(allowed(view, inTeam('get', 'secrets', { name: 'db' }))).toBe(false);
    expect(allowed(view, inTeam('list', 'secrets'))).toBe(false);
    expect(allowed(view, inTeam('create', 'pods'))).toBe(false);
    expect(allowed(view, inTeam('get', 'pods', { name: 'web', subresource: 'exec' }))).toBe(false);
    expect(allowed(view, inTeam('list', 'pods', { namespace: 'elsewhere' }))).toBe(false);
  });

  it('lets edit write workloads, read and write secrets, exec and mint tokens, but not grant access', () => {
    const edit = boundIn('edit');
    expect(allowed(edit, inTeam('get', 'secrets', { name: 'db' }))).toBe(true);
    expect(allowed(edit, inTeam('create', 'secrets'))).toBe(true);
    expect(allowed(edit, inTeam('create', 'pods', { name: 'web', subresource: 'exec' }))).toBe(true);
    expect(allowed(edit, inTeam('get', 'pods', { name: 'web', subresource: 'exec' }))).toBe(true);
    expect(allowed(edit, inTeam('create', 'serviceaccounts', { name: 'ci', subresource: 'token' }))).toBe(
      true,
    );
    expect(allowed(edit, inTeam('create', 'pods', { name: 'web', subresource: 'eviction' }))).toBe(true);
    expect(
      allowed(edit, inTeam('patch', 'deployments', { group: 'apps', name: 'web', subresource: 'scale' })),
    ).toBe(true);
    expect(allowed(edit, inTeam('deletecollection', 'jobs', { group: 'batch' }))).toBe(true);
    expect(allowed(edit, inTeam('list', 'pods'))).toBe(true);
    expect(allowed(edit, inTeam('create', 'rolebindings', { group: rbacGroup }))).toBe(false);
    expect(allowed(edit, inTeam('update', 'pods', { name: 'web', subresource: 'status' }))).toBe(false);
    expect(allowed(edit, inTeam('update', 'endpoints', { name: 'web' }))).toBe(false);
  });

  it('lets admin manage roles and rolebindings in its namespace only', () => {
    const admin = boundIn('admin');
    for (const verb of ['create', 'update', 'delete', 'list']) {
      expect(allowed(admin, inTeam(verb, 'rolebindings', { group: rbacGroup }))).toBe(true);
      expect(allowed(admin, inTeam(verb, 'roles', { group: rbacGroup }))).toBe(true);
    }
    expect(allowed(admin, inTeam('get', 'secrets', { name: 'db' }))).toBe(true);
    expect(allowed(admin, inTeam('create', 'rolebindings', { group: rbacGroup, namespace: 'other' }))).toBe(
      false,
    );
    expect(allowed(admin, request(alice, 'create', 'clusterrolebindings', { group: rbacGroup }))).toBe(false);
  });

  it('lets anyone read health and version, signed-in users discover the API and ask about themselves', () => {
    const anonymous: User = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
      expect(allowed(defaults, nonResource(anonymous, 'get', path))).toBe(true);
    }
    expect(allowed(defaults, nonResource(anonymous, 'get', '/apis'))).toBe(false);
    expect(
      allowed(
        defaults,
        request(anonymous, 'create', 'selfsubjectaccessreviews', { group: 'authorization.k8s.io' }),
      ),
    ).toBe(false);
    for (const path of [
      '/api',
      '/api/v1',
      '/apis',
      '/apis/apps/v1',
      '/openapi/v2',
      '/openapi/v3/apis/apps/v1',
    ]) {
      expect(allowed(defaults, nonResource(alice, 'get', path))).toBe(true);
    }
    expect(allowed(defaults, nonResource(alice, 'post', '/apis'))).toBe(false);
    expect(allowed(defaults, nonResource(alice, 'get', '/metrics'))).toBe(false);
    const reviews = [
      ['authorization.k8s.io', 'selfsubjectaccessreviews'],
      ['authorization.k8s.io', 'selfsubjectrulesreviews'],
      ['authentication.k8s.io', 'selfsubjectreviews'],
    ];
    for (const [group, resource] of reviews) {
      expect(
        allowed(defaults, request(alice, 'create', resource as string, { group: group as string })),
      ).toBe(true);
    }
    expect(allowed(defaults, request(alice, 'list', 'pods'))).toBe(false);
  });

  it('lets system:masters do anything', () => {
    const root: User = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
    expect(
      allowed(defaults, request(root, 'escalate', 'clusterroles', { group: rbacGroup, name: 'x' })),
    ).toBe(true);
    expect(
      allowed(defaults, request(root, 'delete', 'widgets', { group: 'example.com', namespace: 'a' })),
    ).toBe(true);
    expect(allowed(defaults, nonResource(root, 'put', '/anything/at/all'))).toBe(true);
  });

  it('names only resources and subresources this server serves (or the review and token APIs)', () => {
    const extra = new Set([
      'authorization.k8s.io/selfsubjectaccessreviews',
      'authorization.k8s.io/selfsubjectrulesreviews',
      'authentication.k8s.io/selfsubjectreviews',
      '/serviceaccounts/token',
    ]);
    for (const { rules = [] } of roles) {
      for (const rule of rules) {
        for (const group of rule.apiGroups ?? []) {
          for (const combined of rule.resources ?? []) {
            if (group === '*' || extra.has(`${group}/${combined}`)) continue;
            const [resource, subresource] = combined.split('/');
            const type = resourceTypes.find((t) => t.group === group && t.resource === resource);
            expect(type, `${group}/${combined}`).toBeDefined();
            if (subresource) expect(type?.subresources, `${group}/${combined}`).toContain(subresource);
          }
        }
      }
    }
  });
});

describe("the control plane's identities", () => {
  const defaults = policy({
    clusterRoles: bootstrapClusterRoles(),
    clusterRoleBindings: bootstrapClusterRoleBindings(),
  });
  /** As functions/runtime/in-process.ts makes a component's user. */
  const component = (name: string): User => ({ name: `system:${name}`, groups: ['system:authenticated'] });

  /**
   * `verb resource[.group][/subresource]`, in the namespace a component would use (`default`, or
   * `kube-node-lease` for leases; none for cluster-scoped kinds), naming an object unless the verb
   * is list or create.
   */
  function call(user: User, spec: string): RequestAttributes {
    const [verb, target] = spec.split(' ') as [string, string];
    const [qualified, subresource = ''] = target.split('/') as [string, string?];
    const dot = qualified.indexOf('.');
    const resource = dot < 0 ? qualified : qualified.slice(0, dot);
    const group = dot < 0 ? '' : qualified.slice(dot + 1);
    const type = resourceTypes.find((t) => t.group === group && t.resource === resource);
    if (!type) throw new Error(`not served: ${qualified}`);
    const namespace = !type.namespaced ? '' : resource === 'leases' ? 'kube-node-lease' : 'default';
    const name = (verb === 'list' || verb === 'create') && !subresource ? '' : 'x';
    return request(user, verb, resource, { group, subresource, namespace, name });
  }

  const recordsEvents = ['create events', 'get events', 'update events'];

  // What each component's code calls through the API (read from functions/**), call by call.
  const uses: Record<string, string[]> = {
    'kube-scheduler': [
      ...recordsEvents,
      'get pods',
      'list pods',
      'create pods/binding',
      'update pods/status',
      'list nodes',
    ],
    'kube-controller-manager': [
      ...recordsEvents,
      // workloads: Deployments and ReplicaSets
      'get deployments.apps',
      'list deployments.apps',
      'update deployments.apps',
      'update deployments.apps/status',
      'get replicasets.apps',
      'list replicasets.apps',
      'create replicasets.apps',
      'update replicasets.apps',
      'patch replicasets.apps',
      'delete replicasets.apps',
      'update replicasets.apps/status',
      'list pods',
      'create pods',
      'patch pods',
      'delete pods',
      // endpoints
      'get services',
      'list services',
      'get endpoints',
      'list endpoints',
      'create endpoints',
      'update endpoints',
      'delete endpoints',
      'list endpointslices.discovery.k8s.io',
      'create endpointslices.discovery.k8s.io',
      'update endpointslices.discovery.k8s.io',
      'delete endpointslices.discovery.k8s.io',
      // job
      'get jobs.batch',
      'list jobs.batch',
      'patch jobs.batch',
      'update jobs.batch/status',
      // lifecycle: node lifecycle, taint eviction, pod GC, namespace deletion
      'get leases.coordination.k8s.io',
      'get nodes',
      'list nodes',
      'update nodes',
      'update nodes/status',
      'get pods',
      'update pods/status',
      'get namespaces',
      'list namespaces',
      'update namespaces/status',
      'update namespaces/finalize',
      // event TTL
      'list events',
      'delete events',
      // namespace deletion and garbage collection, on every kind
      ...resourceTypes.flatMap((t) => {
        const qualified = t.group ? `${t.resource}.${t.group}` : t.resource;
        return ['get', 'list', 'patch', 'delete'].map((verb) => `${verb} ${qualified}`);
      }),
    ],
    'lambernetes-notifier': [...recordsEvents, 'get nodes', 'list nodes'],
    'cloud-controller-manager': [
      ...recordsEvents,
      'list nodes',
      'patch nodes',
      'delete nodes',
      'list pods',
      'create pods/eviction',
    ],
  };

  const cases = Object.entries(uses).flatMap(([name, calls]) => calls.map((spec) => [name, spec] as const));

  it.each(cases)('%s may %s', (name, spec) => {
    const answer = rbacDecision(defaults, call(component(name), spec));
    expect(answer.reason).toBe(
      `RBAC: allowed by ClusterRoleBinding "system:${name}" of ClusterRole "system:${name}" to User "system:${name}"`,
    );
  });

  const refused: [string, string][] = [
    ['kube-scheduler', 'delete secrets'],
    ['kube-scheduler', 'get secrets'],
    ['kube-scheduler', 'delete pods'],
    ['kube-scheduler', 'update nodes'],
    ['kube-scheduler', 'watch pods'],
    ['lambernetes-notifier', 'list pods'],
    ['lambernetes-notifier', 'update nodes'],
    ['cloud-controller-manager', 'get secrets'],
    ['cloud-controller-manager', 'create pods'],
    ['cloud-controller-manager', 'update pods/status'],
    ['kube-controller-manager', 'create secrets'],
    ['kube-controller-manager', 'update secrets'],
    ['kube-controller-manager', 'create rolebindings.rbac.authorization.k8s.io'],
    ['kube-controller-manager', 'create clusterrolebindings.rbac.authorization.k8s.io'],
    ['kube-controller-manager', 'update clusterroles.rbac.authorization.k8s.io'],
    ['kube-controller-manager', 'escalate clusterroles.rbac.authorization.k8s.io'],
    ['kube-controller-manager', 'create pods/exec'],
    ['kube-controller-manager', 'create pods/binding'],
  ];

  it.each(refused)('%s may not %s', (name, spec) => {
    expect(rbacDecision(defaults, call(component(name), spec)).decision).toBe(Decision.NoOpinion);
  });

  it("binds every control-plane function's component (functions/registry.ts) to its role", () => {
    // Placeholders: the functions are only listed here, never run, so nothing of these is used.
    const store = {} as Store;
    const cloud = { config: {} as CloudControllerConfig, ec2: {} as Ec2Cloud };
    const components = controlFunctions(store, {}, {} as NodeQueues, cloud).map((f) => f.component);
    expect(components.sort()).toEqual(Object.keys(uses).sort());
    for (const name of components) {
      const user = component(name);
      const bound = defaults.clusterRoleBindings.filter((b) =>
        b.subjects?.some((s) => subjectMatches(s, user, '')),
      );
      expect(bound.map((b) => b.metadata.name)).toContain(`system:${name}`);
    }
  });
});
