import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMachineFacts } from '../../agent/kubelet/machine.js';
import { type Heartbeats, startHeartbeats } from '../../agent/kubelet/node.js';
import type { NodeIdentity } from '../../agent/kubelet/node-status.js';
import type { Lease, Node } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { until } from '../support/wait.js';

const nodes = resourceType('nodes');
const leases = resourceType('leases.coordination.k8s.io');

const identity: NodeIdentity = {
  name: 'agent-node',
  podCIDR: '10.244.7.0/24',
  containerRuntimeVersion: 'podman://4.3.1',
  maxPods: 110,
  reserved: { cpuMilli: 100, memoryBytes: 128 * 1024 * 1024 },
  port: 10250,
};

describe('agent heartbeats: Node registration, Lease renewal, status', () => {
  let cluster: TestCluster;
  let beats: Heartbeats | undefined;
  const start = () =>
    startHeartbeats({
      client: cluster.client,
      identity,
      readFacts: () => readMachineFacts(tmpdir()),
      leaseIntervalMs: 500,
      statusIntervalMs: 500,
    });
  const ready = async () =>
    (await cluster.client.find<Node>(nodes, undefined, identity.name))?.status?.conditions?.find(
      (c) => c.type === 'Ready',
    );

  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: { nodeMonitorGracePeriodMs: 3000 } });
  });
  afterAll(async () => {
    await beats?.stop();
    await cluster?.stop();
  });

  it('registers a Ready node that kubectl shows with its version, and a Lease owned by it', async () => {
    beats = await start();
    const table = await cluster.kubectlOk(['get', 'node', identity.name, '--no-headers']);
    expect(table).toMatch(/^agent-node\s+Ready\s+<none>\s+\S+\s+v1\.32\.0-lambernetes/);
    const node = await cluster.client.get<Node>(nodes, undefined, identity.name);
    expect(node.spec?.podCIDR).toBe('10.244.7.0/24');
    expect(Number(node.status?.capacity?.cpu)).toBeGreaterThan(0);
    const lease = await cluster.client.get<Lease>(leases, 'kube-node-lease', identity.name);
    expect(lease.spec?.holderIdentity).toBe(identity.name);
    expect(lease.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', uid: node.metadata.uid });
    const renewed = lease.spec?.renewTime;
    await until(
      'the lease is renewed',
      async () => {
        const now = await cluster.client.get<Lease>(leases, 'kube-node-lease', identity.name);
        return now.spec?.renewTime !== renewed;
      },
      10_000,
    );
  });

  it('goes Unknown when the agent stops, and Ready again when a new agent takes the node over', async () => {
    await beats?.stop();
    beats = undefined;
    await until('the node is Unknown', async () => (await ready())?.status === 'Unknown', 30_000);
    beats = await start();
    await until('the node is Ready again', async () => (await ready())?.status === 'True', 15_000);
    const { items } = await cluster.client.list<Node>(nodes);
    expect(items.filter((n) => n.metadata.name === identity.name)).toHaveLength(1);
  });

  it('registers again when its Node is deleted under it', async () => {
    const before = await cluster.client.get<Node>(nodes, undefined, identity.name);
    await cluster.kubectlOk(['delete', 'node', identity.name]);
    await until(
      'the node is registered again',
      async () => {
        const node = await cluster.client.find<Node>(nodes, undefined, identity.name);
        return node !== undefined && node.metadata.uid !== before.metadata.uid;
      },
      15_000,
    );
    await until('the new node is Ready', async () => (await ready())?.status === 'True', 15_000);
  });
});
