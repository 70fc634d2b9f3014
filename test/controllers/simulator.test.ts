import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { type Simulator, startSimulator } from '../support/simulator.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

describe('the node simulator', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(cluster.client, [{ name: 'sim-a' }, { name: 'sim-b', cpu: '2' }], {
      leaseIntervalMs: 500,
    });
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  it('registers Ready nodes with capacity', async () => {
    const node = await cluster.client.get<Node>(nodes, undefined, 'sim-b');
    expect(node.status?.allocatable?.cpu).toBe('2');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('runs a pod bound to its node and removes it when it is deleted', async () => {
    await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: 'sim-a', containers: [{ name: 'c', image: 'busybox' }] },
    });
    const running = await until('Running', async () => {
      const pod = await cluster.client.get<Pod>(pods, 'default', 'p');
      return pod.status?.phase === 'Running' ? pod : undefined;
    });
    expect(running.status?.podIP).toMatch(/^10\.244\.0\./);
    await cluster.client.delete(pods, 'default', 'p');
    await until('gone', async () =>
      (await cluster.client.find(pods, 'default', 'p')) === undefined ? true : undefined,
    );
  });
});
