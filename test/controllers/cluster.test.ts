/**
 * The control plane end to end, driven by the real kubectl against a local cluster whose nodes are
 * simulated (test/support/simulator.ts): scheduler, ReplicaSet and Deployment controllers, node
 * lifecycle, pod GC and the namespace controller working together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { type Simulator, startSimulator } from '../support/simulator.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

const manifest = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 4
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      tolerations:
        - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 1 }
        - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 1 }
      containers:
        - name: web
          image: localhost/busybox:local
          resources: { requests: { cpu: 500m, memory: 64Mi } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

describe('a cluster of simulated nodes, through kubectl', () => {
  let cluster: TestCluster;
  let simulator: Simulator;

  beforeAll(async () => {
    cluster = await startTestCluster({
      // Eight renewals may go missing before a node counts as gone: on a loaded machine a renewal can
      // take seconds, and a node that flaps takes its pods with it.
      controlPlane: { nodeMonitorGracePeriodMs: 8000, defaultEvictionSeconds: 2 },
    });
    simulator = await startSimulator(
      cluster.client,
      [{ name: 'node-a' }, { name: 'node-b' }, { name: 'node-c' }],
      { leaseIntervalMs: 1000 },
    );
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  const runningPods = async () =>
    (await cluster.client.list<Pod>(pods, { namespace: 'shop', labelSelector: 'app=web' })).items.filter(
      (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp,
    );

  it('rolls out a Deployment across the nodes', { timeout: 180_000 }, async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], manifest);
    expect(applied.stderr).toBe('');
    const status = await cluster.kubectl([
      'rollout',
      'status',
      '-n',
      'shop',
      'deployment/web',
      '--timeout=120s',
    ]);
    expect(status.stdout).toContain('successfully rolled out');
    const running = await until(
      'four running pods',
      async () => {
        const pods = await runningPods();
        return pods.length === 4 ? pods : undefined;
      },
      60_000,
    );
    expect(new Set(running.map((p) => p.spec.nodeName)).size).toBeGreaterThan(1);
    // The Endpoints controller follows the pods' readiness a moment after the rollout reports it.
    const addresses = await until('four endpoint addresses', async () => {
      const endpoints = await cluster.kubectl([
        'get',
        'endpoints',
        '-n',
        'shop',
        'web',
        '-o',
        'jsonpath={.subsets[*].addresses[*].ip}',
      ]);
      const ips = endpoints.stdout.split(' ').filter(Boolean);
      return ips.length === 4 ? ips : undefined;
    });
    expect(addresses).toHaveLength(4);
  });

  it('moves the pods of a node that stops renewing its lease to the other nodes', {
    timeout: 180_000,
  }, async () => {
    const victim = (await runningPods())[0]?.spec.nodeName as string;
    simulator.silence(victim);
    await until(
      `${victim} to be NotReady`,
      async () => {
        const node = await cluster.client.get<Node>(nodes, undefined, victim);
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        const tainted = node.spec?.taints?.some(
          (t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
        );
        return ready?.status === 'Unknown' && tainted ? node : undefined;
      },
      60_000,
    );
    await until(
      'four running pods on the other nodes',
      async () => {
        const running = await runningPods();
        return running.length === 4 && running.every((p) => p.spec.nodeName !== victim) ? running : undefined;
      },
      90_000,
    );
    const table = await cluster.kubectl(['get', 'nodes']);
    expect(table.stdout).toMatch(new RegExp(`${victim}\\s+NotReady`));
  });

  it('deletes a namespace with everything in it', { timeout: 180_000 }, async () => {
    // The silenced node's pods stay Terminating while their kubelet is gone, as upstream; removing the
    // node lets pod GC finish them, and then the namespace can go.
    const silent = (await cluster.client.list<Node>(nodes)).items.find(
      (n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown',
    );
    if (silent) expect((await cluster.kubectl(['delete', 'node', silent.metadata.name])).code).toBe(0);
    const deleted = await cluster.kubectl(['delete', 'namespace', 'shop', '--timeout=120s']);
    expect(deleted.stdout).toContain('namespace "shop" deleted');
    const gone = await cluster.kubectl(['get', 'namespace', 'shop']);
    expect(gone.stderr).toContain('NotFound');
    for (const resource of ['pods', 'replicasets.apps', 'deployments.apps', 'services', 'endpoints']) {
      const left = (await cluster.client.list(resourceType(resource), { namespace: 'shop' })).items;
      expect(
        left.map((o) => o.metadata.name),
        resource,
      ).toEqual([]);
    }
  });
});
