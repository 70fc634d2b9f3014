/**
 * Role-based access control as kube-apiserver's RBAC authorizer evaluates it
 * (plugin/pkg/auth/authorizer/rbac, pkg/apis/rbac/v1/evaluation_helpers.go) and as its registry
 * prevents escalation (pkg/registry/rbac/validation): pure functions of a snapshot of the four RBAC
 * kinds. Only `createRbacAuthorizer` does I/O, through the `load` it is given.
 *
 * RBAC only ever allows: a request no rule allows gets no opinion, and the next authorizer (or the
 * default deny) decides.
 */
import { selectorMatcher } from '../../../shared/api/label-selector.js';
import { serviceAccountUsername } from './service-account-tokens.js';
import {
  type Authorization,
  type Authorizer,
  Decision,
  type PolicyRule,
  type RequestAttributes,
  type Role,
  type RoleBinding,
  type Subject,
  type User,
} from './types.js';

/**
 * The RBAC objects as they stand at one moment. A snapshot is never changed once built: lookups
 * derived from it are remembered for as long as it lives.
 */
export interface RbacPolicy {
  clusterRoles: readonly Role[];
  clusterRoleBindings: readonly RoleBinding[];
  /** Every namespace's Roles (metadata.namespace set). */
  roles: readonly Role[];
  /** Every namespace's RoleBindings (metadata.namespace set). */
  roleBindings: readonly RoleBinding[];
}

/** `*` in verbs, apiGroups, resources and nonResourceURLs (rbacv1.VerbAll, APIGroupAll…). */
const all = '*';

// --- Rule matching (evaluation_helpers.go) -------------------------------------------------------

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === all || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === all || g === group);
}

/**
 * `combined` is `resource/subresource`. A rule may also name a subresource of every resource: `*`, a
 * slash and the subresource (`*` + `/status`).
 */
function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return (rule.resources ?? []).some(
    (r) => r === all || r === combined || (subresource !== '' && r === `*/${subresource}`),
  );
}

/**
 * No names: any object. Otherwise the request must name a listed object, so a list, a watch or a
 * create (whose name is not in the path) never matches a rule with resourceNames.
 */
function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** A non-resource URL of a rule: the path itself, or a prefix of it when it ends in `*`. */
function urlCovers(ruleUrl: string, path: string): boolean {
  return ruleUrl === path || (ruleUrl.endsWith('*') && path.startsWith(ruleUrl.replace(/\*+$/, '')));
}

/** Whether the rule allows the request (upstream's RuleAllows). */
export function ruleAllows(rule: PolicyRule, attributes: RequestAttributes): boolean {
  if (!verbMatches(rule, attributes.verb)) return false;
  if (!attributes.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((url) => urlCovers(url, attributes.path));
  }
  const { resource, subresource } = attributes;
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (
    apiGroupMatches(rule, attributes.apiGroup) &&
    resourceMatches(rule, combined, subresource) &&
    resourceNameMatches(rule, attributes.name)
  );
}

// --- Subjects (rule.go appliesToUser) ------------------------------------------------------------

/**
 * Whether a binding's subject is this user. A ServiceAccount subject without a namespace means one
 * in the binding's own namespace; in a ClusterRoleBinding (namespace '') it matches no one.
 */
export function subjectMatches(subject: Subject, user: User, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && user.name === serviceAccountUsername(namespace, subject.name);
    }
    default:
      return false;
  }
}

/** How upstream names a subject in a reason: `User "alice"`, `ServiceAccount "builder/ci"`. */
function describeSubject(subject: Subject, bindingNamespace: string): string {
  const name =
    subject.kind === 'ServiceAccount'
      ? `${subject.name}/${subject.namespace || bindingNamespace}`
      : subject.name;
  return `${subject.kind} ${JSON.stringify(name)}`;
}

// --- Aggregated ClusterRoles (clusterroleaggregation controller) --------------------------------

/** Two rules are the same when their lists are (upstream's ruleExists, with absent = empty). */
function ruleKey(rule: PolicyRule): string {
  return JSON.stringify([
    rule.verbs,
    rule.apiGroups ?? [],
    rule.resources ?? [],
    rule.resourceNames ?? [],
    rule.nonResourceURLs ?? [],
  ]);
}

function distinct(rules: Iterable<PolicyRule>): PolicyRule[] {
  const seen = new Map<string, PolicyRule>();
  for (const rule of rules) if (!seen.has(ruleKey(rule))) seen.set(ruleKey(rule), rule);
  return [...seen.values()];
}

/**
 * The rules a ClusterRole grants. One with an aggregation rule grants the union of the rules of every
 * other ClusterRole a selector of it matches (selectors are alternatives), themselves aggregated in
 * turn: `admin` takes `edit`, which takes `view`. Its own stored `rules` do not count: upstream's
 * aggregation controller overwrites them with that union, so stored rules are only a copy of it
 * (written back for `kubectl get -o yaml`), and a copy that counted would keep a rule granted after
 * the role it came from lost it. A cycle of aggregations stops where it would come back.
 */
export function aggregatedRules(role: Role, clusterRoles: readonly Role[]): PolicyRule[] {
  return effectiveRules(role, clusterRoles, new Set());
}

function effectiveRules(role: Role, clusterRoles: readonly Role[], visiting: Set<string>): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors) return role.rules ?? [];
  const inner = new Set(visiting).add(role.metadata.name);
  return distinct(
    clusterRoles
      .filter((other) => !inner.has(other.metadata.name))
      .filter((other) => selectors.some((s) => selectorMatcher(s)(other.metadata.labels)))
      .flatMap((other) => effectiveRules(other, clusterRoles, inner)),
  );
}

// --- Walking the bindings (rule.go VisitRulesFor) ------------------------------------------------

/** The roles of a snapshot by name, each role's rules worked out once, and the bindings by namespace. */
interface PolicyIndex {
  clusterRoleRules(name: string): PolicyRule[] | undefined;
  roleRules(namespace: string, name: string): PolicyRule[] | undefined;
  roleBindingsIn(namespace: string): readonly RoleBinding[];
}

const indexes = new WeakMap<RbacPolicy, PolicyIndex>();

function indexOf(policy: RbacPolicy): PolicyIndex {
  let index = indexes.get(policy);
  if (!index) {
    const clusterRoles = new Map(policy.clusterRoles.map((r) => [r.metadata.name, r]));
    const roles = new Map(policy.roles.map((r) => [`${r.metadata.namespace ?? ''}/${r.metadata.name}`, r]));
    const aggregated = new Map<string, PolicyRule[]>();
    const bindings = new Map<string, RoleBinding[]>();
    for (const binding of policy.roleBindings) {
      const namespace = binding.metadata.namespace ?? '';
      const inNamespace = bindings.get(namespace) ?? [];
      inNamespace.push(binding);
      bindings.set(namespace, inNamespace);
    }
    index = {
      clusterRoleRules(name) {
        const role = clusterRoles.get(name);
        if (!role) return undefined;
        const rules = aggregated.get(name) ?? aggregatedRules(role, policy.clusterRoles);
        aggregated.set(name, rules);
        return rules;
      },
      roleRules(namespace, name) {
        const role = roles.get(`${namespace}/${name}`);
        return role ? (role.rules ?? []) : undefined;
      },
      roleBindingsIn: (namespace) => bindings.get(namespace) ?? [],
    };
    indexes.set(policy, index);
  }
  return index;
}

/** A rule that applies, and the binding it comes through (for the reason of an Allow). */
interface Grant {
  rule: PolicyRule;
  source: string;
}

/** A binding of the user whose role does not exist: it grants nothing; the reason says so. */
interface Missing {
  missing: string;
}

/**
 * The rules that apply to the user in the namespace, binding by binding: every ClusterRoleBinding's,
 * then (for a namespace) the RoleBindings of that namespace, whose ClusterRoles' rules count in that
 * namespace only. Lazy, so an authorizer stops at the first rule that allows.
 */
function* visitRules(user: User, namespace: string, policy: RbacPolicy): Generator<Grant | Missing> {
  const index = indexOf(policy);
  for (const binding of policy.clusterRoleBindings) {
    const subject = binding.subjects?.find((s) => subjectMatches(s, user, ''));
    if (!subject) continue;
    const { kind, name } = binding.roleRef;
    // A ClusterRoleBinding can only refer to a ClusterRole: a Role of namespace '' never exists.
    const rules = kind === 'ClusterRole' ? index.clusterRoleRules(name) : undefined;
    if (!rules) {
      yield { missing: notFound(kind, name) };
      continue;
    }
    const source = `ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ${kind} ${JSON.stringify(name)} to ${describeSubject(subject, '')}`;
    for (const rule of rules) yield { rule, source };
  }
  if (namespace === '') return;
  for (const binding of index.roleBindingsIn(namespace)) {
    const subject = binding.subjects?.find((s) => subjectMatches(s, user, namespace));
    if (!subject) continue;
    const { kind, name } = binding.roleRef;
    const rules = kind === 'ClusterRole' ? index.clusterRoleRules(name) : index.roleRules(namespace, name);
    if (!rules) {
      yield { missing: notFound(kind, name) };
      continue;
    }
    const source = `RoleBinding ${JSON.stringify(`${binding.metadata.name}/${namespace}`)} of ${kind} ${JSON.stringify(name)} to ${describeSubject(subject, namespace)}`;
    for (const rule of rules) yield { rule, source };
  }
}

/** As the RBAC listers word it: `clusterrole.rbac.authorization.k8s.io "x" not found`. */
function notFound(kind: string, name: string): string {
  return `${kind.toLowerCase()}.rbac.authorization.k8s.io ${JSON.stringify(name)} not found`;
}

/**
 * Every rule that applies to the user in the namespace ('' = the cluster-wide rules only): what
 * SelfSubjectRulesReview (`kubectl auth can-i --list`) lists, and what a user may grant others.
 */
export function rulesFor(user: User, namespace: string, policy: RbacPolicy): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const visit of visitRules(user, namespace, policy)) if ('rule' in visit) rules.push(visit.rule);
  return rules;
}

/**
 * The RBAC authorizer's answer: Allow with the binding that allows, as upstream words it (`RBAC:
 * allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "alice"`), else no opinion, saying
 * which of the user's bindings refer to roles that do not exist.
 */
export function rbacDecision(policy: RbacPolicy, attributes: RequestAttributes): Authorization {
  const missing: string[] = [];
  for (const visit of visitRules(attributes.user, attributes.namespace, policy)) {
    if ('missing' in visit) missing.push(visit.missing);
    else if (ruleAllows(visit.rule, attributes))
      return { decision: Decision.Allow, reason: `RBAC: allowed by ${visit.source}` };
  }
  const errors = missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`;
  return { decision: Decision.NoOpinion, reason: missing.length > 0 ? `RBAC: ${errors}` : '' };
}

/** The RBAC authorizer over whatever policy `load` returns (a cached snapshot, usually). */
export function createRbacAuthorizer(load: () => Promise<RbacPolicy>): Authorizer {
  return async (attributes) => rbacDecision(await load(), attributes);
}

// --- Escalation prevention (validation/policy_comparator.go Covers) -----------------------------

/**
 * A rule as its atoms (upstream's BreakdownRule): one verb × one group × one resource × one name (or
 * no name), or one verb × one non-resource URL. An atom is either wholly covered by one rule or not.
 */
export function atomicRules(rule: PolicyRule): PolicyRule[] {
  const atoms: PolicyRule[] = [];
  const names = rule.resourceNames ?? [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs) {
        if (names.length === 0) atoms.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names)
          atoms.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
  for (const url of rule.nonResourceURLs ?? [])
    for (const verb of rule.verbs) atoms.push({ verbs: [verb], nonResourceURLs: [url] });
  return atoms;
}

/** Every value of `wanted` is in `owned`, or `owned` has `*`. */
function coversValues(owned: readonly string[] = [], wanted: readonly string[] = []): boolean {
  return owned.includes(all) || wanted.every((w) => owned.includes(w));
}

/**
 * Upstream's resourceCoversAll: `*`, the very resource, or for `resource/subresource` the owner's
 * wildcard form of that subresource (`*` + `/subresource`). A wildcard asked for is only covered by
 * the same wildcard or `*`.
 */
function coversResources(owned: readonly string[] = [], wanted: readonly string[] = []): boolean {
  if (owned.includes(all)) return true;
  return wanted.every((resource) => {
    if (owned.includes(resource)) return true;
    const slash = resource.indexOf('/');
    return slash >= 0 && owned.includes(`*/${resource.slice(slash + 1)}`);
  });
}

/** An owner rule covers an atom (upstream's ruleCovers). */
function covers(owner: PolicyRule, atom: PolicyRule): boolean {
  const ownerNames = owner.resourceNames ?? [];
  const atomNames = atom.resourceNames ?? [];
  // A rule for named objects never covers an atom for every object.
  const namesCovered =
    ownerNames.length === 0 || (atomNames.length > 0 && atomNames.every((n) => ownerNames.includes(n)));
  return (
    coversValues(owner.verbs, atom.verbs) &&
    coversValues(owner.apiGroups, atom.apiGroups) &&
    coversResources(owner.resources, atom.resources) &&
    namesCovered &&
    (atom.nonResourceURLs ?? []).every((url) =>
      (owner.nonResourceURLs ?? []).some((ownerUrl) => urlCovers(ownerUrl, url)),
    )
  );
}

/**
 * What of `requested` the `owner` rules do not cover, as atoms: a user may only grant (in a Role or
 * ClusterRole, or by binding one) what they hold themselves. Empty: covered.
 */
export function uncoveredRules(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  return requested.flatMap(atomicRules).filter((atom) => !owner.some((rule) => covers(rule, atom)));
}
