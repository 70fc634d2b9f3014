import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podRequest } from '../../functions/scheduler/requests.js';
import type { Node, Pod, PodSpec } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { type Simulator, startSimulator } from '../support/simulator.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

describe('the scheduler in a cluster', () => {
  let cluster: TestCluster;
  let simulator: Simulator;

  const create = (name: string, cpu: string, spec: Partial<PodSpec> = {}) =>
    cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...spec },
    });

  const boundNode = (name: string, timeoutMs = 30_000) =>
    until(
      `${name} bound`,
      async () => (await cluster.client.get<Pod>(pods, 'default', name)).spec.nodeName,
      timeoutMs,
    );

  const unschedulable = (name: string) =>
    until(`${name} Unschedulable`, async () => {
      const pod = await cluster.client.get<Pod>(pods, 'default', name);
      const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      return condition?.status === 'False' && condition.reason === 'Unschedulable' ? condition : undefined;
    });

  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(
      cluster.client,
      [
        { name: 'sim-small', cpu: '1', labels: { zone: 'a' } },
        { name: 'sim-large', cpu: '2', labels: { zone: 'b', disk: 'ssd' } },
        {
          name: 'sim-tainted',
          cpu: '8',
          labels: { zone: 'a' },
          taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
        },
        { name: 'sim-cordoned', cpu: '8' },
      ],
      { leaseIntervalMs: 1000 },
    );
    await cluster.client.patch(nodes, undefined, 'sim-cordoned', { spec: { unschedulable: true } });
  });

  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  it('binds pods to nodes they fit, never to a cordoned or tainted node', async () => {
    await create('probe', '10m', { nodeSelector: { 'kubernetes.io/hostname': 'sim-cordoned' } });
    expect((await unschedulable('probe')).message).toBe(
      '0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, ' +
        "2 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.',
    );
    for (let i = 0; i < 5; i++) await create(`spread-${i}`, '400m');
    const placed = await Promise.all(Array.from({ length: 5 }, (_, i) => boundNode(`spread-${i}`)));
    for (const node of placed) expect(['sim-small', 'sim-large']).toContain(node);
    // sim-small has room for two of them, sim-large for all.
    expect(placed.filter((n) => n === 'sim-small').length).toBeLessThanOrEqual(2);

    await create('tolerant', '4', {
      nodeSelector: { zone: 'a' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
    });
    expect(await boundNode('tolerant')).toBe('sim-tainted');
    await until('Running', async () => {
      const pod = await cluster.client.get<Pod>(pods, 'default', 'tolerant');
      return pod.status?.phase === 'Running' ? true : undefined;
    });
  });

  it('follows nodeSelector and node affinity', async () => {
    await create('on-ssd', '10m', { nodeSelector: { disk: 'ssd' } });
    await create('in-zone-a', '10m', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
          },
        },
      },
    });
    await create('by-name', '10m', {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['sim-small'] }] },
            ],
          },
        },
      },
    });
    await create('prefers-b', '10m', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
            },
          ],
        },
      },
    });
    expect(await boundNode('on-ssd')).toBe('sim-large');
    expect(await boundNode('in-zone-a')).toBe('sim-small');
    expect(await boundNode('by-name')).toBe('sim-small');
    expect(await boundNode('prefers-b')).toBe('sim-large');
  });

  it('marks a pod that fits nowhere Unschedulable, as upstream words it, and binds it once a node comes', async () => {
    await create('huge', '16');
    const condition = await unschedulable('huge');
    expect(condition.message).toBe(
      '0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, ' +
        '2 Insufficient cpu. preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, ' +
        '2 Preemption is not helpful for scheduling.',
    );
    const warnings = await until('a FailedScheduling event', async () => {
      const { stdout } = await cluster.kubectl(['get', 'events', '-n', 'default']);
      return /FailedScheduling\s+pod\/huge/.test(stdout) ? stdout : undefined;
    });
    expect(warnings).toMatch(/Warning\s+FailedScheduling\s+pod\/huge\s+0\/4 nodes are available/);

    await simulator.addNode({ name: 'sim-big', cpu: '32' });
    expect(await boundNode('huge')).toBe('sim-big');
    const events = await until('a Scheduled event', async () => {
      const { stdout } = await cluster.kubectl(['get', 'events', '-n', 'default']);
      return stdout.includes('Successfully assigned default/huge to sim-big') ? stdout : undefined;
    });
    expect(events).toMatch(/Normal\s+Scheduled\s+pod\/huge\s+Successfully assigned default\/huge to sim-big/);
  });

  it('binds a waiting pod when a pod on the full node is deleted', async () => {
    await simulator.addNode({ name: 'sim-release', cpu: '1', labels: { pool: 'release' } });
    await create('blocker', '800m', { nodeSelector: { pool: 'release' } });
    expect(await boundNode('blocker')).toBe('sim-release');
    await create('waiter', '800m', { nodeSelector: { pool: 'release' } });
    const condition = await unschedulable('waiter');
    expect(condition.message).toMatch(/^0\/6 nodes are available: 1 Insufficient cpu, /);
    await cluster.client.delete(pods, 'default', 'blocker');
    expect(await boundNode('waiter')).toBe('sim-release');
  });

  it('never overcommits a node', async () => {
    const { items } = await cluster.client.list<Pod>(pods);
    const used = new Map<string, number>();
    for (const pod of items) {
      if (pod.spec.nodeName)
        used.set(pod.spec.nodeName, (used.get(pod.spec.nodeName) ?? 0) + podRequest(pod).cpuMilli);
    }
    const { items: all } = await cluster.client.list<Node>(nodes);
    for (const node of all) {
      const cpu = Number.parseFloat(node.status?.allocatable?.cpu ?? '0') * 1000;
      expect(used.get(node.metadata.name) ?? 0).toBeLessThanOrEqual(cpu);
    }
  });
});
