/**
 * Who is asking and what for: the shapes authentication produces and authorization decides on, as
 * Kubernetes' `user.Info` and `authorizer.Attributes`.
 */

import type { LabelSelector } from '../../../shared/api/core.js';
import type { KubernetesObject } from '../../../shared/api/types.js';

/** An authenticated identity (`kubectl auth whoami` shows it). */
export interface User {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The user a bearer token belongs to, if any; undefined when the authenticator does not know it. */
export type Authenticator = (token: string) => Promise<User | undefined>;

/** What a request asks to do, as the authorizers see it. */
export interface RequestAttributes {
  user: User;
  /**
   * Resource requests: get, list, watch, create, update, patch, delete, deletecollection (and the
   * special verbs: bind, escalate, impersonate, use…). Non-resource requests: the HTTP method in lower
   * case (get, post, put…).
   */
  verb: string;
  /** True for `/api/...` and `/apis/...` paths that name a resource. */
  resourceRequest: boolean;
  /** The request path (what non-resource rules match). */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  /** '' for cluster-scoped requests and for requests across all namespaces. */
  namespace: string;
  /** '' when the request names no object (list, create without a name in the path). */
  name: string;
}

export const Decision = { Allow: 'allow', Deny: 'deny', NoOpinion: 'noopinion' } as const;
export type Decision = (typeof Decision)[keyof typeof Decision];

export interface Authorization {
  decision: Decision;
  /** Why, for the audit log and SubjectAccessReview's `status.reason`. */
  reason: string;
}

export type Authorizer = (attributes: RequestAttributes) => Promise<Authorization>;

/** rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** rbac.authorization.k8s.io/v1 Subject. */
export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

export interface Role extends KubernetesObject {
  rules?: PolicyRule[];
  /** ClusterRoles only: the roles whose rules this one's are the union of. */
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}

export interface RoleBinding extends KubernetesObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}
