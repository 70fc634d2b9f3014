import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClusterDefaults } from '../../../functions/apiserver/bootstrap.js';
import { syncReplicaSet } from '../../../functions/controllers/workloads/replicaset.js';
import type { ControllerContext } from '../../../functions/runtime/controller.js';
import { controllerContext } from '../../../functions/runtime/in-process.js';
import type { Pod, ReplicaSet } from '../../../shared/api/core.js';
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { ApiClient } from '../../../shared/client/client.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { freshStore } from '../../support/dynamo.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';
import { isLive, isReady, livePods } from './helpers.js';

const replicaSets = resourceType('replicasets.apps');
const pods = resourceType('pods');
const events = resourceType('events');

const long = { timeout: 120_000 };

function replicaSet(name: string, replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
      ...extra,
    },
  };
}

const pending = 'replicaset.lambernetes.io/pending';

describe('the ReplicaSet controller on a cluster', () => {
  let cluster: TestCluster;
  let simulator: Simulator;

  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(cluster.client, [
      { name: 'sim-a' },
      { name: 'sim-b' },
      { name: 'sim-c' },
    ]);
  }, 120_000);
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  const settled = (name: string, replicas: number) =>
    until(
      `${name} to have ${replicas} ready pods and say so`,
      async () => {
        const rs = await cluster.client.get<ReplicaSet>(replicaSets, 'default', name);
        const live = await livePods(cluster.client, 'default', `app=${name}`);
        return live.length === replicas &&
          live.every(isReady) &&
          (rs.status?.readyReplicas ?? 0) === replicas &&
          (rs.status?.replicas ?? 0) === replicas &&
          rs.metadata.annotations?.[pending] === undefined
          ? { rs, live }
          : undefined;
      },
      60_000,
    );

  it(
    'creates the pods of a ReplicaSet, owned by it, and reports them in its status and events',
    long,
    async () => {
      await cluster.client.create(replicaSets, replicaSet('front', 2));
      const { rs, live } = await settled('front', 2);
      for (const pod of live) {
        expect(pod.metadata.name).toMatch(/^front-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
        expect(pod.metadata.generateName).toBe('front-');
        expect(pod.metadata.ownerReferences).toEqual([
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'front',
            uid: rs.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
      expect(rs.status).toMatchObject({
        replicas: 2,
        fullyLabeledReplicas: 2,
        availableReplicas: 2,
        observedGeneration: 1,
      });
      const recorded = await cluster.client.list<KubernetesObject & { reason: string; message: string }>(
        events,
        {
          namespace: 'default',
          fieldSelector: 'involvedObject.name=front',
        },
      );
      expect(recorded.items.map((e) => e.message).sort()).toEqual(
        live.map((p) => `Created pod: ${p.metadata.name}`).sort(),
      );
      expect(recorded.items.every((e) => e.reason === 'SuccessfulCreate')).toBe(true);
    },
  );

  it('replaces a deleted pod, and follows kubectl scale down and up', long, async () => {
    await cluster.client.create(replicaSets, replicaSet('scaled', 2));
    const { live } = await settled('scaled', 2);
    await cluster.client.delete(pods, 'default', live[0]?.metadata.name as string);
    const replaced = await settled('scaled', 2);
    expect(replaced.live.map((p) => p.metadata.name)).not.toContain(live[0]?.metadata.name);
    expect((await cluster.kubectl(['scale', 'rs/scaled', '--replicas=1'])).stderr).toBe('');
    await settled('scaled', 1);
    expect((await cluster.kubectl(['scale', 'rs/scaled', '--replicas=3'])).stderr).toBe('');
    const { rs } = await settled('scaled', 3);
    expect(rs.status?.observedGeneration).toBe(rs.metadata.generation);
  });

  it('adopts a matching orphan pod and releases one relabelled away', long, async () => {
    const orphan = await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', namespace: 'default', labels: { app: 'adopter' } },
      spec: { nodeName: 'sim-a', containers: [{ name: 'c', image: 'nginx' }] },
    });
    await cluster.client.create(replicaSets, replicaSet('adopter', 2));
    const { rs, live } = await settled('adopter', 2);
    const adopted = live.find((p) => p.metadata.name === 'orphan');
    expect(adopted?.metadata.uid).toBe(orphan.metadata.uid);
    expect(adopted?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ReplicaSet', uid: rs.metadata.uid, controller: true }),
    ]);

    expect((await cluster.kubectl(['label', 'pod', 'orphan', 'app=elsewhere', '--overwrite'])).stderr).toBe(
      '',
    );
    const released = await until(
      'the relabelled pod released',
      async () => {
        const pod = await cluster.client.get<Pod>(pods, 'default', 'orphan');
        return pod.metadata.ownerReferences === undefined ? pod : undefined;
      },
      60_000,
    );
    expect(isLive(released)).toBe(true);
    const after = await settled('adopter', 2);
    expect(after.live.map((p) => p.metadata.name)).not.toContain('orphan');
  });

  it('counts ready pods available only after minReadySeconds', long, async () => {
    await cluster.client.create(replicaSets, replicaSet('patient', 2, { minReadySeconds: 8 }));
    const { rs } = await settled('patient', 2);
    expect(rs.status?.availableReplicas ?? 0).toBeLessThan(2);
    await until(
      'both available',
      async () => {
        const current = await cluster.client.get<ReplicaSet>(replicaSets, 'default', 'patient');
        return current.status?.availableReplicas === 2 ? true : undefined;
      },
      60_000,
    );
  });
});

describe('ReplicaSet syncs running at once', () => {
  let ctx: ControllerContext;
  beforeAll(async () => {
    const { store } = await freshStore();
    await ensureClusterDefaults(store);
    ctx = controllerContext(store, 'kube-controller-manager');
  });

  /** Syncs until a sync gets through, as the retry queue would after each lost race. */
  const syncUntilDone = async (name: string) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await syncReplicaSet(ctx, 'default', name);
      } catch (error) {
        if (!(error instanceof ApiError && error.reason === StatusReason.Conflict) || attempt > 20)
          throw error;
      }
    }
  };
  const podsOf = async (client: ApiClient, name: string) =>
    (await client.list<Pod>(pods, { namespace: 'default', labelSelector: `app=${name}` })).items.filter(
      isLive,
    );

  it('create exactly the replicas, never twice', long, async () => {
    await ctx.client.create(replicaSets, replicaSet('racy', 4));
    await Promise.all(Array.from({ length: 4 }, () => syncUntilDone('racy')));
    expect(await podsOf(ctx.client, 'racy')).toHaveLength(4);
    await Promise.all(Array.from({ length: 4 }, () => syncUntilDone('racy')));
    expect(await podsOf(ctx.client, 'racy')).toHaveLength(4);
    const rs = await ctx.client.get<ReplicaSet>(replicaSets, 'default', 'racy');
    expect(rs.metadata.annotations?.[pending]).toBeUndefined();
    expect(rs.status?.replicas).toBe(4);
  });

  it('delete exactly the surplus, never more', long, async () => {
    const rs = await ctx.client.get<ReplicaSet>(replicaSets, 'default', 'racy');
    await ctx.client.update(replicaSets, { ...rs, spec: { ...rs.spec, replicas: 1 } });
    await Promise.all(Array.from({ length: 4 }, () => syncUntilDone('racy')));
    expect(await podsOf(ctx.client, 'racy')).toHaveLength(1);
  });

  it('finish the creations a sync planned before it died, under the planned names', long, async () => {
    const planned = { create: ['heir-aaaaa', 'heir-bbbbb'], delete: [] };
    const rs = replicaSet('heir', 2);
    rs.metadata.annotations = { [pending]: JSON.stringify(planned) };
    await ctx.client.create(replicaSets, rs);
    await syncUntilDone('heir');
    expect((await podsOf(ctx.client, 'heir')).map((p) => p.metadata.name).sort()).toEqual(planned.create);
    await syncUntilDone('heir');
    const settled = await ctx.client.get<ReplicaSet>(replicaSets, 'default', 'heir');
    expect(settled.metadata.annotations?.[pending]).toBeUndefined();
    expect(await podsOf(ctx.client, 'heir')).toHaveLength(2);
  });
});
