/**
 * The local cluster's `kubernetes` Service, through the API server's handler on DynamoDB Local: made
 * once, and its endpoints moved when the API server listens elsewhere (a restart on another port).
 */
import { expect, it } from 'vitest';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import { inProcessClient } from '../../functions/runtime/in-process.js';
import { resourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { reconcileKubernetesService } from '../../shared/local/kubernetes-service.js';
import { freshStore } from '../support/dynamo.js';

it('makes the kubernetes Service and points its endpoints where the API server now listens', async () => {
  const { store } = await freshStore();
  await ensureClusterDefaults(store);
  const admin = inProcessClient(store, { name: 'admin', groups: ['system:masters'] });
  const get = (resource: string) =>
    admin.get<KubernetesObject & Record<string, unknown>>(resourceType(resource), 'default', 'kubernetes');

  await reconcileKubernetesService(admin, { ip: '10.244.0.1', port: 6443 });
  const service = await get('services');
  expect(service.spec).toMatchObject({ clusterIP: '10.96.0.1', ports: [{ port: 443, targetPort: 6443 }] });
  const version = (await get('endpoints')).metadata.resourceVersion;

  // Again on the same address: nothing to change.
  await reconcileKubernetesService(admin, { ip: '10.244.0.1', port: 6443 });
  expect((await get('endpoints')).metadata.resourceVersion).toBe(version);

  await reconcileKubernetesService(admin, { ip: '10.244.0.1', port: 7443 });
  expect((await get('services')).spec).toMatchObject({
    clusterIP: '10.96.0.1',
    ports: [{ port: 443, targetPort: 7443 }],
  });
  expect((await get('endpoints')).subsets).toEqual([
    { addresses: [{ ip: '10.244.0.1' }], ports: [{ name: 'https', port: 7443, protocol: 'TCP' }] },
  ]);
  expect((await get('endpointslices.discovery.k8s.io')).endpoints).toEqual([
    { addresses: ['10.244.0.1'], conditions: { ready: true } },
  ]);
  expect((await get('endpointslices.discovery.k8s.io')).ports).toEqual([
    { name: 'https', port: 7443, protocol: 'TCP' },
  ]);
});
