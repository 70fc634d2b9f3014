/**
 * Checks on what a write would store that the request's attributes alone cannot decide (kube-apiserver
 * does them in admission and in the RBAC registry):
 * - RBAC escalation prevention: a Role or ClusterRole may hold only rules its author already has (or
 *   the author may `escalate`); a binding may grant only a role whose rules its author has (or the
 *   author may `bind` it);
 * - NodeRestriction: a node registers only its own Node and Lease.
 */
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { qualifiedResource, type ResourceType } from '../../../shared/api/resources.js';
import { same } from '../../../shared/api/same.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { resourceAttributes } from './attributes.js';
import { nodeOf } from './node-authorizer.js';
import { aggregatedRules, type RbacPolicy, rulesFor, uncoveredRules } from './rbac.js';
import {
  type Authorizer,
  Decision,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type User,
} from './types.js';

/** Checks an object about to be created (`old` undefined) or to replace `old`; throws 403. */
export type WriteRestriction = (
  user: User,
  type: ResourceType,
  object: KubernetesObject,
  old?: KubernetesObject,
) => Promise<void>;

const rbacGroup = 'rbac.authorization.k8s.io';

export function createWriteRestriction(
  authorize: Authorizer,
  policy: () => Promise<RbacPolicy>,
): WriteRestriction {
  const may = async (user: User, verb: string, resource: string, namespace: string, name: string) =>
    (
      await authorize(
        resourceAttributes(user, verb, { apiGroup: rbacGroup, apiVersion: 'v1', resource, namespace, name }),
      )
    ).decision === Decision.Allow;

  return async (user, type, object, old) => {
    const node = nodeOf(user);
    const own =
      (type.group === '' && type.resource === 'nodes') ||
      (type.group === 'coordination.k8s.io' && type.resource === 'leases');
    if (node !== undefined && own && object.metadata.name !== node) {
      throw forbiddenWrite(type, object, `node "${node}" may only modify its own ${type.kind.toLowerCase()}`);
    }
    if (type.group !== rbacGroup) return;
    const namespace = object.metadata.namespace ?? '';
    if (type.kind === 'Role' || type.kind === 'ClusterRole') {
      const rules = (object as Role).rules ?? [];
      if (old && same(rules, (old as Role).rules ?? [])) return;
      if (await may(user, 'escalate', type.resource, namespace, object.metadata.name)) return;
      const missing = uncoveredRules(rulesFor(user, namespace, await policy()), rules);
      if (missing.length > 0) throw escalation(type, object, user, missing);
      return;
    }
    const { roleRef, subjects } = object as RoleBinding;
    // Only who is bound, and to what, grants anything (the garbage collector changes owner references).
    if (old && same(subjects, (old as RoleBinding).subjects) && same(roleRef, (old as RoleBinding).roleRef))
      return;
    const roleResource = roleRef.kind === 'Role' ? 'roles' : 'clusterroles';
    if (await may(user, 'bind', roleResource, roleRef.kind === 'Role' ? namespace : '', roleRef.name)) return;
    const current = await policy();
    const role =
      roleRef.kind === 'Role'
        ? current.roles.find((r) => r.metadata.namespace === namespace && r.metadata.name === roleRef.name)
        : current.clusterRoles.find((r) => r.metadata.name === roleRef.name);
    if (!role) {
      throw forbiddenWrite(type, object, `${roleRef.kind.toLowerCase()} "${roleRef.name}" not found`);
    }
    const granted =
      roleRef.kind === 'ClusterRole' ? aggregatedRules(role, current.clusterRoles) : (role.rules ?? []);
    const missing = uncoveredRules(rulesFor(user, namespace, current), granted);
    if (missing.length > 0) throw escalation(type, object, user, missing);
  };
}

function forbiddenWrite(type: ResourceType, object: KubernetesObject, why: string): ApiError {
  return new ApiError(
    403,
    StatusReason.Forbidden,
    `${qualifiedResource(type)} "${object.metadata.name}" is forbidden: ${why}`,
    { name: object.metadata.name, ...(type.group ? { group: type.group } : {}), kind: type.resource },
  );
}

/** Upstream's wording: which rules the author would grant without holding them. */
function escalation(
  type: ResourceType,
  object: KubernetesObject,
  user: User,
  missing: PolicyRule[],
): ApiError {
  const quoted = (values: string[] | undefined) =>
    `[${(values ?? []).map((v) => JSON.stringify(v)).join(' ')}]`;
  const rules = missing.map((rule) => {
    const parts = rule.nonResourceURLs?.length
      ? [`NonResourceURLs:${quoted(rule.nonResourceURLs)}`]
      : [
          `APIGroups:${quoted(rule.apiGroups)}`,
          `Resources:${quoted(rule.resources)}`,
          ...(rule.resourceNames?.length ? [`ResourceNames:${quoted(rule.resourceNames)}`] : []),
        ];
    return `{${[...parts, `Verbs:${quoted(rule.verbs)}`].join(', ')}}`;
  });
  return forbiddenWrite(
    type,
    object,
    `user "${user.name}" (groups=${quoted(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${rules.join('\n')}`,
  );
}
