import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSlice, Endpoints } from '../../../functions/controllers/endpoints/types.js';
import type { Pod, Service } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';

const pods = resourceType('pods');
const services = resourceType('services');
const endpoints = resourceType('endpoints');
const slices = resourceType('endpointslices.discovery.k8s.io');
const namespace = 'default';
const wait = 60_000;

function webPod(name: string, node: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'web' } },
    spec: {
      nodeName: node,
      containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  };
}

describe('the endpoints controllers on a cluster', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  const ipOf = async (name: string) =>
    until(
      `${name} has an IP`,
      async () => (await cluster.client.get<Pod>(pods, namespace, name)).status?.podIP,
      wait,
    );
  const readyIPs = async () => {
    const found = await cluster.client.find<Endpoints>(endpoints, namespace, 'web');
    return (found?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  };
  const notReadyIPs = async () => {
    const found = await cluster.client.find<Endpoints>(endpoints, namespace, 'web');
    return (found?.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)).sort();
  };
  const sliceEndpoints = async (service = 'web') =>
    (
      await cluster.client.list<EndpointSlice>(slices, {
        namespace,
        labelSelector: `kubernetes.io/service-name=${service}`,
      })
    ).items.flatMap((s) => s.endpoints ?? []);
  const equal = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b) || undefined;

  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(cluster.client, [{ name: 'sim-a' }, { name: 'sim-b' }], {
      leaseIntervalMs: 1000,
    });
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  it('follows pods being added, becoming not ready and deleted, in Endpoints and EndpointSlices', {
    timeout: 180_000,
  }, async () => {
    // A service without a selector, with Endpoints by hand: nothing below may touch them.
    await cluster.client.create<Service>(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'manual', namespace },
      spec: { ports: [{ port: 5432 }] },
    });
    const manual = await cluster.client.create<Endpoints>(endpoints, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'manual', namespace },
      subsets: [{ addresses: [{ ip: '192.168.1.1' } as never], ports: [{ port: 5432, protocol: 'TCP' }] }],
    });

    await cluster.client.create<Service>(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await cluster.client.create(pods, webPod('web-a', 'sim-a'));
    await cluster.client.create(pods, webPod('web-b', 'sim-b'));
    const [a, b] = [await ipOf('web-a'), await ipOf('web-b')];
    await until('Endpoints list both pods', async () => equal(await readyIPs(), [a, b].sort()), wait);
    const stored = await cluster.client.get<Endpoints>(endpoints, namespace, 'web');
    expect(stored.subsets?.[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    await until(
      'the EndpointSlice lists both pods ready',
      async () =>
        equal(
          (await sliceEndpoints())
            .filter((e) => e.conditions.ready)
            .flatMap((e) => e.addresses)
            .sort(),
          [a, b].sort(),
        ),
      wait,
    );

    const shown = await cluster.kubectl(['get', 'endpoints', 'web']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`${[a, b].sort()[0]}:8080`);

    // web-b stops being ready: it moves to notReadyAddresses, and its slice endpoint to ready=false.
    const podB = await cluster.client.get<Pod>(pods, namespace, 'web-b');
    await cluster.client.update<Pod>(
      pods,
      {
        ...podB,
        status: {
          ...podB.status,
          conditions: (podB.status?.conditions ?? []).map((c) =>
            c.type === 'Ready' ? { ...c, status: 'False' } : c,
          ),
        },
      },
      'status',
    );
    await until(
      'web-b is not ready in Endpoints',
      async () => equal(await notReadyIPs(), [b as string]),
      wait,
    );
    expect(await readyIPs()).toEqual([a]);
    await until(
      'web-b is not ready in the slice',
      async () => (await sliceEndpoints()).find((e) => e.addresses[0] === b && !e.conditions.ready),
      wait,
    );

    // A third pod joins; web-a is deleted.
    await cluster.client.create(pods, webPod('web-c', 'sim-a'));
    const c = await ipOf('web-c');
    await cluster.client.delete(pods, namespace, 'web-a');
    await until(
      'Endpoints list web-c and not web-a',
      async () => equal(await readyIPs(), [c as string]),
      wait,
    );
    await until(
      'the slice lists web-b and web-c only',
      async () =>
        equal((await sliceEndpoints()).flatMap((e) => e.addresses).sort(), [b, c].sort() as string[]),
      wait,
    );

    expect(
      (await cluster.client.get<Endpoints>(endpoints, namespace, 'manual')).metadata.resourceVersion,
    ).toBe(manual.metadata.resourceVersion);
    expect(await sliceEndpoints('manual')).toEqual([]);
  });

  it('deletes the Endpoints and EndpointSlices of a deleted service', { timeout: 120_000 }, async () => {
    await cluster.client.create<Service>(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'short', namespace },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await until('Endpoints for short', () => cluster.client.find(endpoints, namespace, 'short'), wait);
    await until(
      'a slice for short',
      async () =>
        (await cluster.client.list(slices, { namespace, labelSelector: 'kubernetes.io/service-name=short' }))
          .items[0],
      wait,
    );
    await cluster.client.delete(services, namespace, 'short');
    await until(
      'no Endpoints for short',
      async () => ((await cluster.client.find(endpoints, namespace, 'short')) ? undefined : true),
      wait,
    );
    await until(
      'no slices for short',
      async () =>
        (await cluster.client.list(slices, { namespace, labelSelector: 'kubernetes.io/service-name=short' }))
          .items.length === 0
          ? true
          : undefined,
      wait,
    );
  });
});
