import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnerReference, Pod } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';

const configmaps = resourceType('configmaps');
const pods = resourceType('pods');

const slow = { timeout: 120_000 };
const wait = 60_000;

describe('garbage collector', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(cluster.client, [{ name: 'sim-gc' }], { leaseIntervalMs: 500 });
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  const kubectl = (...args: string[]) => cluster.kubectlOk(args);

  const ownedBy = (owner: KubernetesObject, extra: Partial<OwnerReference> = {}): OwnerReference => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: owner.metadata.name,
    uid: owner.metadata.uid as string,
    ...extra,
  });

  const configMap = (name: string, metadata: Partial<KubernetesObject['metadata']> = {}) =>
    cluster.client.create<KubernetesObject>(configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default', ...metadata },
      data: { key: 'value' },
    });

  const find = (name: string) => cluster.client.find(configmaps, 'default', name);
  const gone = (what: string, probe: () => Promise<unknown>) =>
    until(what, async () => ((await probe()) === undefined ? true : undefined), wait);

  it(
    'deletes the dependents of an owner kubectl deletes, pods through their graceful deletion',
    slow,
    async () => {
      const owner = await configMap('bg-owner');
      await configMap('bg-dependent', { ownerReferences: [ownedBy(owner)] });
      await cluster.client.create<Pod>(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'bg-pod',
          namespace: 'default',
          ownerReferences: [ownedBy(owner, { controller: true })],
        },
        spec: { nodeName: 'sim-gc', containers: [{ name: 'c', image: 'busybox' }] },
      });
      await until(
        'bg-pod Running',
        async () =>
          (await cluster.client.get<Pod>(pods, 'default', 'bg-pod')).status?.phase === 'Running'
            ? true
            : undefined,
        wait,
      );
      expect(await kubectl('delete', 'configmap', 'bg-owner')).toContain('configmap "bg-owner" deleted');
      await gone('bg-dependent gone', () => find('bg-dependent'));
      await gone('bg-pod gone', () => cluster.client.find(pods, 'default', 'bg-pod'));
    },
  );

  it('deletes blocking dependents first under --cascade=foreground, then the owner', slow, async () => {
    const owner = await configMap('fg-owner');
    await configMap('fg-blocking', {
      ownerReferences: [ownedBy(owner, { blockOwnerDeletion: true })],
      finalizers: ['example.com/hold'],
    });
    await configMap('fg-free', { ownerReferences: [ownedBy(owner)] });
    await kubectl('delete', 'configmap', 'fg-owner', '--cascade=foreground', '--wait=false');

    // The blocking dependent is being deleted but held by its finalizer, so the owner waits.
    await until(
      'fg-blocking deleting',
      async () => ((await find('fg-blocking'))?.metadata.deletionTimestamp ? true : undefined),
      wait,
    );
    await gone('fg-free gone', () => find('fg-free'));
    const waiting = await find('fg-owner');
    expect(waiting?.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(waiting?.metadata.deletionTimestamp).toBeDefined();

    await kubectl(
      'patch',
      'configmap',
      'fg-blocking',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    );
    await gone('fg-blocking gone', () => find('fg-blocking'));
    await gone('fg-owner gone', () => find('fg-owner'));
  });

  it(
    'keeps the dependents of an owner deleted with --cascade=orphan, without their reference to it',
    slow,
    async () => {
      const owner = await configMap('orphan-owner');
      const other = await configMap('orphan-other-owner');
      await configMap('orphan-only', {
        ownerReferences: [ownedBy(owner, { controller: true, blockOwnerDeletion: true })],
      });
      await configMap('orphan-shared', { ownerReferences: [ownedBy(owner), ownedBy(other)] });
      await kubectl('delete', 'configmap', 'orphan-owner', '--cascade=orphan');
      await gone('orphan-owner gone', () => find('orphan-owner'));
      expect((await find('orphan-only'))?.metadata.ownerReferences).toBeUndefined();
      expect((await find('orphan-shared'))?.metadata.ownerReferences).toEqual([ownedBy(other)]);
    },
  );

  it('deletes an object whose owner was recreated under the same name (another uid)', slow, async () => {
    const first = await configMap('recreated-owner');
    await cluster.client.delete(configmaps, 'default', 'recreated-owner');
    await configMap('recreated-owner');
    await configMap('stale-dependent', { ownerReferences: [ownedBy(first)] });
    await gone('stale-dependent gone', () => find('stale-dependent'));
    expect(await find('recreated-owner')).toBeDefined();
  });

  it(
    'only drops the reference to a deleted owner from a dependent that has another owner',
    slow,
    async () => {
      const gone1 = await configMap('shared-owner-a');
      const kept = await configMap('shared-owner-b');
      await configMap('two-owners', { ownerReferences: [ownedBy(gone1), ownedBy(kept)] });
      await kubectl('delete', 'configmap', 'shared-owner-a');
      await until(
        'reference dropped',
        async () => ((await find('two-owners'))?.metadata.ownerReferences?.length === 1 ? true : undefined),
        wait,
      );
      expect((await find('two-owners'))?.metadata.ownerReferences).toEqual([ownedBy(kept)]);
    },
  );
});
