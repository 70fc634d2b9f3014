import type { KubernetesObject } from '../../../shared/api/types.js';
import type { Store } from '../../../shared/store/store.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import type { RbacPolicy } from './rbac.js';
import type { Role, RoleBinding } from './types.js';

/**
 * How often a container asks whether the RBAC objects changed (one read of a counter every RBAC write
 * through any API server bumps): other containers' RBAC changes count within this.
 */
export const rbacCheckMs = 2_000;
/** Read again this old even with no change counted: a writer that stopped before counting its change. */
export const rbacCacheMs = 60_000;

const group = 'rbac.authorization.k8s.io';
const counter = 'rbac';

/**
 * The RBAC objects as the authorizer sees them: the stored ones, plus each default ClusterRole and
 * ClusterRoleBinding not (yet) stored under its name, so the control plane's own identities are
 * authorized on a table nobody has bootstrapped. A snapshot of four lists, read again when the RBAC
 * counter moved (checked every `rbacCheckMs`) or in the background once `rbacCacheMs` old; `changed`
 * counts this process's own RBAC writes, which count here at once.
 */
export interface RbacPolicySource {
  load(): Promise<RbacPolicy>;
  /** After an RBAC object was written: bumps the counter other containers check, and reads afresh here. */
  changed(): Promise<void>;
}

// One source per store and process: every API server instance over a store (the local server and the
// controllers' in-process clients) sees the others' RBAC writes at once.
const sources = new WeakMap<Store, RbacPolicySource>();

export function rbacPolicySource(store: Store, now: () => number = Date.now): RbacPolicySource {
  let source = sources.get(store);
  if (!source) {
    source = cachedPolicy(store, now);
    sources.set(store, source);
  }
  return source;
}

interface Cached {
  policy: RbacPolicy;
  /** The counter when the read began. */
  count: number;
  readAt: number;
  checkedAt: number;
}

function cachedPolicy(store: Store, now: () => number): RbacPolicySource {
  let cached: Cached | undefined;
  let reading: Promise<RbacPolicy> | undefined;
  let checking: Promise<RbacPolicy> | undefined;
  // Bumped by `changed`: a read that began before it must not be kept as fresh.
  let generation = 0;
  const read = () => {
    if (!reading) {
      const started = { generation, at: now() };
      reading = (async () => {
        // The counter first: a change counted after it is seen at the next check.
        const count = await store.counter(counter);
        const policy = await readPolicy(store);
        if (started.generation === generation)
          cached = { policy, count, readAt: started.at, checkedAt: started.at };
        return policy;
      })().finally(() => {
        reading = undefined;
      });
    }
    return reading;
  };
  const check = (current: Cached) => {
    checking ??= (async () => {
      const checkedAt = now();
      if ((await store.counter(counter)) !== current.count) return read();
      current.checkedAt = checkedAt;
      return current.policy;
    })()
      // A failed check or read answers from what was read before, and is tried again next time.
      .catch(() => current.policy)
      .finally(() => {
        checking = undefined;
      });
    return checking;
  };
  return {
    load() {
      if (!cached) return read();
      if (now() - cached.checkedAt >= rbacCheckMs) return check(cached);
      // Old but with no change counted: answer from it while a fresh read runs (a snapshot list waits
      // for the writes in flight); a failed read keeps it until the next try.
      if (now() - cached.readAt >= rbacCacheMs) read().catch(() => {});
      return Promise.resolve(cached.policy);
    },
    async changed() {
      generation++;
      cached = undefined;
      reading = undefined;
      await store.count(counter);
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
