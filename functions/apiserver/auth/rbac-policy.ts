import type { KubernetesObject } from '../../../shared/api/types.js';
import type { Store } from '../../../shared/store/store.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import type { RbacPolicy } from './rbac.js';
import type { Role, RoleBinding } from './types.js';

/** How long a container trusts the RBAC objects it read: other containers' RBAC changes count within this (a re-read is four snapshot lists, costly under heavy writes). */
export const rbacCacheMs = 60_000;

const group = 'rbac.authorization.k8s.io';

/**
 * The RBAC objects as the authorizer sees them: the stored ones, plus each default ClusterRole and
 * ClusterRoleBinding not (yet) stored under its name, so the control plane's own identities are
 * authorized on a table nobody has bootstrapped. Read again in the background once `rbacCacheMs` old
 * (requests meanwhile use the previous read); `invalidate` makes this process's own RBAC writes count
 * at once (the next request waits for a fresh read).
 */
export interface RbacPolicySource {
  load(): Promise<RbacPolicy>;
  invalidate(): void;
}

// One source per store and process: every API server instance over a store (the local server and the
// controllers' in-process clients) sees the others' RBAC writes at once.
const sources = new WeakMap<Store, RbacPolicySource>();

export function rbacPolicySource(store: Store, now: () => number = Date.now): RbacPolicySource {
  let source = sources.get(store);
  if (!source) {
    source = cachedPolicy(() => readPolicy(store), now);
    sources.set(store, source);
  }
  return source;
}

function cachedPolicy(read: () => Promise<RbacPolicy>, now: () => number): RbacPolicySource {
  let cached: { policy: RbacPolicy; at: number } | undefined;
  let loading: Promise<RbacPolicy> | undefined;
  // Bumped by invalidate: a read that started before it must not be cached as fresh.
  let generation = 0;
  const refresh = () => {
    if (!loading) {
      const started = { generation, at: now() };
      loading = read()
        .then((policy) => {
          if (started.generation === generation) cached = { policy, at: started.at };
          return policy;
        })
        .finally(() => {
          loading = undefined;
        });
    }
    return loading;
  };
  return {
    load() {
      if (!cached) return refresh();
      // Stale: answer from it while a fresh read runs (a snapshot list waits for in-flight writes, and
      // every request would wait behind it); a failed refresh keeps the old one until the next try.
      if (now() - cached.at >= rbacCacheMs) refresh().catch(() => {});
      return Promise.resolve(cached.policy);
    },
    invalidate() {
      generation++;
      cached = undefined;
      loading = undefined;
    },
  };
}

async function readPolicy(store: Store): Promise<RbacPolicy> {
  const list = async <T>(resource: string) =>
    (await store.list({ resource: `${resource}.${group}` })).items as unknown as T[];
  const [clusterRoles, clusterRoleBindings, roles, roleBindings] = await Promise.all([
    list<Role>('clusterroles'),
    list<RoleBinding>('clusterrolebindings'),
    list<Role>('roles'),
    list<RoleBinding>('rolebindings'),
  ]);
  return {
    clusterRoles: withDefaults(clusterRoles, bootstrapClusterRoles()),
    clusterRoleBindings: withDefaults(clusterRoleBindings, bootstrapClusterRoleBindings()),
    roles,
    roleBindings,
  };
}

function withDefaults<T extends KubernetesObject>(stored: T[], defaults: T[]): T[] {
  const names = new Set(stored.map((o) => o.metadata.name));
  return [...stored, ...defaults.filter((o) => !names.has(o.metadata.name))];
}
