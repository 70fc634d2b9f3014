/**
 * Simulated nodes: the real agents over a runtime that runs nothing, without Podman. Their Nodes
 * register and turn Ready, a pod bound to one runs (as far as the API can tell) with an address from
 * the node's pod CIDR, and a deleted pod is stopped and removed as the kubelet does it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

describe('a local cluster with simulated nodes', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ agents: 2, simulatedNodes: true });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('registers Ready nodes without Podman', async () => {
    expect(cluster.agentsUnavailable).toBeUndefined();
    expect(cluster.nodes).toEqual(['worker-1', 'worker-2']);
    expect(cluster.agents?.podman).toBeUndefined();
    const node = await until(
      'worker-2 Ready',
      async () => {
        const found = await cluster.client.get<Node>(nodes, undefined, 'worker-2');
        return found.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? found
          : undefined;
      },
      30_000,
    );
    expect(
      (node.status?.nodeInfo as { containerRuntimeVersion?: string } | undefined)?.containerRuntimeVersion,
    ).toBe('simulated://1.0.0');
  });

  it('runs a scheduled pod and removes it when it is deleted', async () => {
    await cluster.client.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'simulated', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
    });
    const running = await until(
      'the pod Running',
      async () => {
        const pod = await cluster.client.get<Pod>(pods, 'default', 'simulated');
        return pod.status?.phase === 'Running' ? pod : undefined;
      },
      30_000,
    );
    const node = running.spec.nodeName as string;
    expect(['worker-1', 'worker-2']).toContain(node);
    const index = node === 'worker-1' ? 1 : 2;
    expect(running.status?.podIP).toMatch(new RegExp(`^10\\.244\\.${index}\\.\\d+$`));
    expect(running.status?.containerStatuses?.[0]?.state?.running).toBeDefined();

    await cluster.client.delete(pods, 'default', 'simulated');
    await until(
      'the pod gone',
      async () => ((await cluster.client.find<Pod>(pods, 'default', 'simulated')) ? undefined : true),
      30_000,
    );
  });
});
