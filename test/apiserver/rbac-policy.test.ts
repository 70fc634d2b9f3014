/**
 * How soon an RBAC change counts: at once in the process that wrote it, and in another container (a
 * second Store over the same table in DynamoDB Local, with its own policy cache on a fake clock) at
 * its next check of the RBAC counter, well before the cache's age limit.
 */
import { describe, expect, it } from 'vitest';
import { rbacCacheMs, rbacCheckMs, rbacPolicySource } from '../../functions/apiserver/auth/rbac-policy.js';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import { inProcessClient } from '../../functions/runtime/in-process.js';
import { resourceType } from '../../shared/api/resources.js';
import { Store } from '../../shared/store/store.js';
import { freshStore } from '../support/dynamo.js';

const configMaps = resourceType('configmaps');
const roleBindings = resourceType('rolebindings.rbac.authorization.k8s.io');
const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const alice = { name: 'alice', groups: ['system:authenticated'] };

const viewBinding = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'alice-view', namespace: 'default' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
};

/** Alice's list of ConfigMaps: its status code. */
async function aliceLists(client: ReturnType<typeof inProcessClient>): Promise<number> {
  return client.list(configMaps, { namespace: 'default' }).then(
    () => 200,
    (error: { code?: number }) => error.code ?? 0,
  );
}

describe('the RBAC policy cache', () => {
  it('counts a change at once where it was written, and in another container at its next check', async () => {
    const { table, store } = await freshStore();
    await ensureClusterDefaults(store);
    const elsewhere = new Store(table);
    let clock = 0;
    // The other container's cache, on a clock of the test's: made before its API server asks for it.
    rbacPolicySource(elsewhere, () => clock);
    const aliceHere = inProcessClient(store, alice);
    const aliceElsewhere = inProcessClient(elsewhere, alice);

    expect(await aliceLists(aliceHere)).toBe(403);
    expect(await aliceLists(aliceElsewhere)).toBe(403);

    await inProcessClient(store, admin).create(roleBindings, viewBinding as never);
    expect(await aliceLists(aliceHere)).toBe(200);

    // Elsewhere the cached policy holds until the next check, which finds the counter moved.
    clock = rbacCheckMs - 1;
    expect(await aliceLists(aliceElsewhere)).toBe(403);
    clock = rbacCheckMs;
    expect(await aliceLists(aliceElsewhere)).toBe(200);
    expect(rbacCheckMs).toBeLessThan(rbacCacheMs / 10);

    // And a deletion the same way.
    await inProcessClient(store, admin).delete(roleBindings, 'default', 'alice-view');
    expect(await aliceLists(aliceHere)).toBe(403);
    clock = 2 * rbacCheckMs - 1;
    expect(await aliceLists(aliceElsewhere)).toBe(200);
    clock = 2 * rbacCheckMs;
    expect(await aliceLists(aliceElsewhere)).toBe(403);
  });
});
