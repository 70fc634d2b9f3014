import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, Pod } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';

const configmaps = resourceType('configmaps');
const namespaces = resourceType('namespaces');
const pods = resourceType('pods');
const deployments = resourceType('deployments.apps');

const slow = { timeout: 120_000 };
const wait = 60_000;

describe('namespace controller', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(cluster.client, [{ name: 'sim-ns' }], { leaseIntervalMs: 500 });
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  const kubectl = (...args: string[]) => cluster.kubectlOk(args);

  async function fill(namespace: string, metadata: Partial<KubernetesObject['metadata']> = {}) {
    await kubectl('create', 'namespace', namespace);
    await cluster.client.create(configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace, ...metadata },
    });
    await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'worker', namespace },
      spec: { nodeName: 'sim-ns', containers: [{ name: 'c', image: 'busybox' }] },
    });
    await kubectl('-n', namespace, 'create', 'deployment', 'web', '--image=nginx', '--replicas=0');
  }

  it('kubectl delete namespace removes everything in it, then the namespace', slow, async () => {
    await fill('doomed');
    expect(await kubectl('delete', 'namespace', 'doomed', '--timeout=50s')).toContain(
      'namespace "doomed" deleted',
    );
    const after = await cluster.kubectl(['get', 'namespace', 'doomed']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('namespaces "doomed" not found');
    expect((await cluster.client.list(configmaps, { namespace: 'doomed' })).items).toEqual([]);
    expect((await cluster.client.list(pods, { namespace: 'doomed' })).items).toEqual([]);
    expect((await cluster.client.list(deployments, { namespace: 'doomed' })).items).toEqual([]);
  });

  it('waits for content held by a finalizer, saying so in its conditions', slow, async () => {
    await fill('held', { finalizers: ['example.com/hold'] });
    await kubectl('delete', 'namespace', 'held', '--wait=false');
    const conditions = await until(
      'finalizer reported',
      async () => {
        const ns = await cluster.client.get<KubernetesObject & { status?: { conditions?: Condition[] } }>(
          namespaces,
          undefined,
          'held',
        );
        const remaining = ns.status?.conditions?.find((c) => c.type === 'NamespaceFinalizersRemaining');
        return remaining?.status === 'True' ? ns.status?.conditions : undefined;
      },
      wait,
    );
    expect(conditions?.find((c) => c.type === 'NamespaceFinalizersRemaining')?.message).toBe(
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    expect(conditions?.find((c) => c.type === 'NamespaceContentRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
    });
    expect(await kubectl('get', 'namespace', 'held')).toContain('Terminating');

    await kubectl(
      '-n',
      'held',
      'patch',
      'configmap',
      'settings',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    );
    await until(
      'namespace gone',
      async () => ((await cluster.client.find(namespaces, undefined, 'held')) ? undefined : true),
      wait,
    );
  });
});
