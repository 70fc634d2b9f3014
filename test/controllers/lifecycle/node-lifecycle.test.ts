import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, Lease, Node, Pod, Taint, Toleration } from '../../../shared/api/core.js';
import { ApiError } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');
const leases = resourceType('leases.coordination.k8s.io');
const configmaps = resourceType('configmaps');

const slow = { timeout: 120_000 };
const wait = 60_000;

describe('node lifecycle, eviction and drain', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  beforeAll(async () => {
    // The simulator renews every 500 ms, but a busy machine may delay it by seconds; and a node
    // marked NotReady stays so (the simulator never posts Ready again, as a kubelet would).
    cluster = await startTestCluster({
      controlPlane: { nodeMonitorGracePeriodMs: 10_000, defaultEvictionSeconds: 2 },
    });
    simulator = await startSimulator(
      cluster.client,
      ['sim-silent', 'sim-flaky', 'sim-cordon', 'sim-drain', 'sim-deleted'].map((name) => ({ name })),
      { leaseIntervalMs: 500 },
    );
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  const kubectl = (...args: string[]) => cluster.kubectlOk(args);

  const getNode = (name: string) => cluster.client.get<Node>(nodes, undefined, name);
  const taintsOf = async (name: string) =>
    ((await getNode(name)).spec?.taints ?? []).map((t: Taint) => `${t.key}:${t.effect}`).sort();

  async function runPod(name: string, node: string, extra: Partial<Pod['spec']> = {}, metadata = {}) {
    await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', ...metadata },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], ...extra },
    });
    await until(
      `${name} Running`,
      async () =>
        (await cluster.client.get<Pod>(pods, 'default', name)).status?.phase === 'Running' ? true : undefined,
      wait,
    );
  }

  const podState = (name: string) => cluster.client.find<Pod>(pods, 'default', name);
  const readyOf = (pod: Pod | undefined) => pod?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  /** Pods the taint manager leaves alone if their node seems to flap on a busy machine. */
  const staying: Partial<Pod['spec']> = { tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] };

  /** Posts the node's Ready condition as its kubelet would (again after a conflict with the controller). */
  async function postReady(name: string, ready: Partial<Condition> & { status: Condition['status'] }) {
    for (;;) {
      const node = await getNode(name);
      const conditions = node.status?.conditions?.map((c) => (c.type === 'Ready' ? { ...c, ...ready } : c));
      try {
        await cluster.client.update(nodes, { ...node, status: { ...node.status, conditions } }, 'status');
        return;
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error;
      }
    }
  }

  it(
    'marks a silent node NotReady with unreachable taints and evicts its pods after their tolerationSeconds',
    slow,
    async () => {
      const forever: Toleration = {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
      };
      await runPod('default-toleration', 'sim-silent');
      await runPod('tolerates-forever', 'sim-silent', { tolerations: [forever] });
      simulator.silence('sim-silent');

      await until(
        'sim-silent NotReady',
        async () => ((await kubectl('get', 'node', 'sim-silent')).includes('NotReady') ? true : undefined),
        wait,
      );
      const node = await getNode('sim-silent');
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
      });
      await until(
        'unreachable taints',
        async () =>
          (await taintsOf('sim-silent')).join() ===
          'node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule'
            ? true
            : undefined,
        wait,
      );

      // The pod is evicted (deleted) but stays Terminating: no kubelet is left to finish it.
      const evicted = await until(
        'eviction',
        async () => {
          const pod = await podState('default-toleration');
          return pod?.metadata.deletionTimestamp ? pod : undefined;
        },
        wait,
      );
      expect(evicted.status?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
        status: 'True',
        reason: 'DeletionByTaintManager',
      });
      for (const name of ['default-toleration', 'tolerates-forever']) {
        await until(
          `${name} not Ready`,
          async () => (readyOf(await podState(name)) === 'False' ? true : undefined),
          wait,
        );
      }
      expect((await podState('tolerates-forever'))?.metadata.deletionTimestamp).toBeUndefined();
      expect(await kubectl('get', 'pod', 'default-toleration')).toContain('Terminating');
    },
  );

  it('removes the taints of a node whose kubelet reports Ready again', slow, async () => {
    await until(
      'sim-silent tainted',
      async () => ((await taintsOf('sim-silent')).length === 2 ? true : undefined),
      wait,
    );
    // The kubelet comes back: it renews its Lease (every 500 ms, as long as this test runs) and posts Ready.
    const renew = async () => {
      const lease = await cluster.client.get<Lease>(leases, 'kube-node-lease', 'sim-silent');
      await cluster.client.update(leases, {
        ...lease,
        spec: { ...lease.spec, renewTime: new Date().toISOString() },
      });
    };
    await renew();
    const renewing = setInterval(() => void renew().catch(() => undefined), 500);
    try {
      await postReady('sim-silent', {
        status: 'True',
        reason: 'KubeletReady',
        lastHeartbeatTime: new Date().toISOString(),
      });
      await until(
        'taints removed',
        async () => ((await taintsOf('sim-silent')).length === 0 ? true : undefined),
        wait,
      );
      expect(await kubectl('get', 'node', 'sim-silent')).not.toContain('NotReady');
    } finally {
      clearInterval(renewing);
    }
  });

  it(
    'taints a node whose kubelet reports NotReady with not-ready, and untaints it when Ready',
    slow,
    async () => {
      const setReady = (status: 'True' | 'False') => postReady('sim-flaky', { status });
      await setReady('False');
      await until(
        'not-ready taints',
        async () =>
          (await taintsOf('sim-flaky')).join() ===
          'node.kubernetes.io/not-ready:NoExecute,node.kubernetes.io/not-ready:NoSchedule'
            ? true
            : undefined,
        wait,
      );
      const added = (await getNode('sim-flaky')).spec?.taints?.find((t) => t.effect === 'NoExecute');
      expect(added?.timeAdded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      await setReady('True');
      await until(
        'untainted',
        async () => ((await taintsOf('sim-flaky')).length === 0 ? true : undefined),
        wait,
      );
    },
  );

  it('cordons and uncordons a node with kubectl, tainting it unschedulable meanwhile', slow, async () => {
    expect(await kubectl('cordon', 'sim-cordon')).toContain('node/sim-cordon cordoned');
    expect((await getNode('sim-cordon')).spec?.unschedulable).toBe(true);
    const unschedulable = 'node.kubernetes.io/unschedulable:NoSchedule';
    await until(
      'unschedulable taint',
      async () => ((await taintsOf('sim-cordon')).includes(unschedulable) ? true : undefined),
      wait,
    );
    expect(await kubectl('get', 'node', 'sim-cordon')).toContain('SchedulingDisabled');
    expect(await kubectl('uncordon', 'sim-cordon')).toContain('node/sim-cordon uncordoned');
    expect((await getNode('sim-cordon')).spec?.unschedulable).toBeFalsy();
    await until(
      'no unschedulable taint',
      async () => ((await taintsOf('sim-cordon')).includes(unschedulable) ? undefined : true),
      wait,
    );
  });

  it('drains a node with kubectl drain through the eviction API', slow, async () => {
    const owner = await cluster.client.create<KubernetesObject>(configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'drain-owner', namespace: 'default' },
    });
    const managed = {
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'drain-owner',
          uid: owner.metadata.uid as string,
          controller: true,
        },
      ],
    };
    await runPod('drained-a', 'sim-drain', staying, managed);
    await runPod(
      'drained-b',
      'sim-drain',
      { ...staying, volumes: [{ name: 'scratch', emptyDir: {} }] },
      managed,
    );
    await runPod('elsewhere', 'sim-cordon', staying, managed);

    const drained = await kubectl(
      'drain',
      'sim-drain',
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=50s',
    );
    expect(drained).toContain('node/sim-drain cordoned');
    expect(drained).toContain('pod/drained-a evicted');
    expect(drained).toContain('pod/drained-b evicted');
    expect(drained).toContain('node/sim-drain drained');
    expect(await podState('drained-a')).toBeUndefined();
    expect(await podState('drained-b')).toBeUndefined();
    expect((await podState('elsewhere'))?.metadata.deletionTimestamp).toBeUndefined();
    expect((await getNode('sim-drain')).spec?.unschedulable).toBe(true);
  });

  it('refuses to drain a node with unmanaged pods unless forced', slow, async () => {
    await kubectl('uncordon', 'sim-drain');
    await runPod('unmanaged', 'sim-drain', staying);
    const refused = await cluster.kubectl(['drain', 'sim-drain', '--ignore-daemonsets', '--timeout=20s']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('declare no controller');
    expect(await kubectl('drain', 'sim-drain', '--ignore-daemonsets', '--force', '--timeout=50s')).toContain(
      'pod/unmanaged evicted',
    );
    expect(await podState('unmanaged')).toBeUndefined();
  });

  // PodGC waits out a 40 s quarantine (from the pod's binding) before it deletes, then sweeps every 20 s.
  it('force-deletes the pods of a node that was deleted', { timeout: 180_000 }, async () => {
    await runPod('on-deleted-node', 'sim-deleted');
    simulator.silence('sim-deleted');
    await kubectl('delete', 'node', 'sim-deleted');
    expect(await podState('on-deleted-node')).toBeDefined();
    await until('pod gone', async () => ((await podState('on-deleted-node')) ? undefined : true), 150_000);
  });
});
