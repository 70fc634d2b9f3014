/**
 * bench:scheduler: 500 pods created through the HTTPS API on a fresh local cluster with 50 simulated
 * nodes; how fast the scheduler binds them and how long each waits from create to bound, next to the
 * floor in the same run (the store's compare-and-swap writes per second at the same concurrency as
 * bench:store) and how many store revisions each scheduled pod costs. DynamoDB Local's own CPU time is
 * read from /proc: what a scheduled pod costs it, what a plain store write costs it, and how close to
 * saturated it ran (the figures that say what limits the rate here). Prints one JSON line last.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { schedulerControllers } from '../functions/scheduler/index.js';
import { podRequest } from '../functions/scheduler/requests.js';
import type { Pod } from '../shared/api/core.js';
import { resourceType } from '../shared/api/resources.js';
import type { KubernetesObject } from '../shared/api/types.js';
import { ApiClient } from '../shared/client/client.js';
import { httpsTransport } from '../shared/client/https-transport.js';
import { startLocalCluster } from '../shared/local/cluster.js';
import { startControlLoops } from '../shared/local/control-loops.js';
import { localCredentials, startDynamoDBLocal } from '../shared/local/dynamodb-local.js';
import { startLocalSqs } from '../shared/local/sqs.js';
import { Store } from '../shared/store/store.js';
import { createTable } from '../shared/store/table.js';
import { startSimulator } from '../test/support/simulator.js';
import { cpuSeconds, median, percentile } from './measure.js';

const podCount = Number(process.env.BENCH_PODS ?? 500);
const nodeCount = Number(process.env.BENCH_NODES ?? 50);
const creators = 16;
const warmSeconds = Number(process.env.BENCH_WARM_SECONDS ?? 20);

const pods = resourceType('pods');

const configMap = (name: string, value: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'bench', uid: name },
  data: { value },
});

/** Store compare-and-swap updates per second from `creators` writers for `seconds` (bench:store's measure). */
async function storeWrites(store: Store, seconds: number, round: number): Promise<number> {
  const revisions: number[] = [];
  for (let w = 0; w < creators; w++) {
    const created = await store.create(
      { resource: 'configmaps', namespace: 'bench', name: `r${round}-w${w}` },
      configMap(`r${round}-w${w}`, 'x'),
    );
    revisions[w] = Number(created.metadata.resourceVersion);
  }
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: creators }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const name = `r${round}-w${w}`;
        const updated = await store.update(
          { resource: 'configmaps', namespace: 'bench', name },
          configMap(name, `x${i}`),
          revisions[w] as number,
        );
        revisions[w] = Number(updated.metadata.resourceVersion);
        done++;
      }
    }),
  );
  return done / ((Date.now() - started) / 1000);
}

/** How busy DynamoDB Local was while `work` ran: its CPU seconds per wall second. */
async function dynamoBusy<T>(work: () => Promise<T>): Promise<{ result: T; busy: number; cpu: number }> {
  const [cpuBefore, started] = [await cpuSeconds(dynamo.pid), performance.now()];
  const result = await work();
  const cpu = (await cpuSeconds(dynamo.pid)) - cpuBefore;
  return { result, busy: cpu / ((performance.now() - started) / 1000), cpu };
}

const dynamo = await startDynamoDBLocal();
const dynamoClient = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-bench-'));
const tableName = 'bench-scheduler';
const stoppers: (() => Promise<void>)[] = [];
try {
  // DynamoDB Local's JIT takes tens of seconds to reach speed: warm it up with store writes, then
  // measure the floor (three rounds, the median) before the cluster starts.
  await createTable(dynamoClient, 'bench-floor');
  const floorStore = Store.of(dynamoClient, 'bench-floor');
  const warmUntil = Date.now() + warmSeconds * 1000;
  for (let round = 0; Date.now() < warmUntil; round++) {
    console.log(`warm-up: store writes ${(await storeWrites(floorStore, 3, -1 - round)).toFixed(0)}/s`);
  }
  const floor: number[] = [];
  const floorBusy: number[] = [];
  const floorCpuPerWrite: number[] = [];
  for (let round = 0; round < 3; round++) {
    const { result, busy, cpu } = await dynamoBusy(() => storeWrites(floorStore, 3, round));
    floor.push(result);
    floorBusy.push(busy);
    floorCpuPerWrite.push(cpu / (result * 3));
    console.log(
      `floor round ${round + 1}/3: store writes ${result.toFixed(0)}/s, DynamoDB Local busy ${busy.toFixed(2)} CPUs`,
    );
  }

  // The API server alone, and the scheduler as the only control-plane function: what is measured is
  // the scheduler (and the simulated kubelets that answer each bound pod with a status write).
  const cluster = await startLocalCluster({
    dataDir,
    port: 0,
    dynamoEndpoint: dynamo.endpoint,
    tableName,
    controlPlane: false,
  });
  stoppers.push(() => cluster.stop());
  const store = Store.of(dynamoClient, tableName);
  const sqs = await startLocalSqs();
  stoppers.unshift(() => sqs.stop());
  const loops = await startControlLoops({
    store,
    dynamo: dynamoClient,
    dynamoEndpoint: dynamo.endpoint,
    tableName,
    sqsEndpoint: sqs.endpoint,
    functions: [
      { name: 'scheduler', component: 'kube-scheduler', controllers: schedulerControllers(store, {}) },
    ],
  });
  stoppers.unshift(() => loops.stop());
  const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const client = new ApiClient(httpsTransport({ url: cluster.url, ca }), cluster.token);

  const simulator = await startSimulator(
    client,
    Array.from({ length: nodeCount }, (_, i) => ({ name: `node-${i}`, cpu: '4', memory: '16Gi', pods: 110 })),
    { leaseIntervalMs: 10_000 },
  );
  stoppers.unshift(() => simulator.stop());
  console.log(`${nodeCount} simulated nodes registered`);

  // Watch for bindings from before the first create.
  const bound = new Map<string, number>();
  const watchAbort = new AbortController();
  const { resourceVersion } = await client.list<Pod>(pods, { namespace: 'default' });
  const allBound = new Promise<void>((resolve, reject) => {
    (async () => {
      for await (const event of client.watch<Pod>(pods, {
        namespace: 'default',
        resourceVersion,
        signal: watchAbort.signal,
      })) {
        const pod = event.object;
        if (pod.spec?.nodeName && !bound.has(pod.metadata.name)) {
          bound.set(pod.metadata.name, performance.now());
          if (bound.size === podCount) resolve();
        }
      }
    })().catch((error: unknown) => (watchAbort.signal.aborted ? resolve() : reject(error)));
  });

  const revisionBefore = (await store.marks()).revision;
  const cpuBefore = await cpuSeconds(dynamo.pid);
  const created = new Map<string, number>();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: creators }, async () => {
      while (next < podCount) {
        const name = `p-${next++}`;
        await client.create<Pod>(pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default', labels: { app: 'bench' } },
          spec: {
            containers: [
              { name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '128Mi' } } },
            ],
          },
        });
        created.set(name, performance.now());
      }
    }),
  );
  const createdAll = performance.now();
  console.log(`${podCount} pods created in ${((createdAll - started) / 1000).toFixed(1)} s`);
  const timeout = setTimeout(() => watchAbort.abort(), 600_000);
  await allBound;
  const dynamoCpu = (await cpuSeconds(dynamo.pid)) - cpuBefore;
  clearTimeout(timeout);
  watchAbort.abort();
  if (bound.size < podCount)
    throw new Error(`only ${bound.size} of ${podCount} pods were bound in 10 minutes`);
  const finished = Math.max(...bound.values());
  const revisionAfter = (await store.marks()).revision;

  // Nothing overcommitted.
  const { items } = await client.list<Pod>(pods, { namespace: 'default' });
  const perNode = new Map<string, number>();
  for (const pod of items) {
    const node = pod.spec.nodeName as string;
    perNode.set(node, (perNode.get(node) ?? 0) + podRequest(pod).cpuMilli);
  }
  for (const [node, cpu] of perNode) if (cpu > 4000) throw new Error(`${node} is overcommitted: ${cpu}m`);

  const latencies = [...created].map(([name, at]) => (bound.get(name) as number) - at);
  const seconds = (finished - started) / 1000;
  console.log(
    `bound ${podCount} pods in ${seconds.toFixed(1)} s on ${perNode.size} nodes; ` +
      `${((revisionAfter - revisionBefore) / podCount).toFixed(1)} store revisions per pod (create, reserve, bind, event, kubelet status…)`,
  );
  console.log(
    JSON.stringify({
      pods: podCount,
      nodes: nodeCount,
      bindsPerSec: Math.round(podCount / seconds),
      createToBoundP50Ms: Math.round(percentile(latencies, 50)),
      createToBoundP99Ms: Math.round(percentile(latencies, 99)),
      createsPerSec: Math.round(podCount / ((createdAll - started) / 1000)),
      storeWritesPerSec: Math.round(median(floor)),
      revisionsPerPod: Number(((revisionAfter - revisionBefore) / podCount).toFixed(1)),
      // DynamoDB Local's CPU: per scheduled pod, per plain store write in the floor, and how busy it was
      // while pods were scheduled relative to how busy the floor's 16 writers kept it (1: saturated).
      dynamoCpuMsPerPod: Math.round((dynamoCpu * 1000) / podCount),
      dynamoCpuMsPerStoreWrite: Number((median(floorCpuPerWrite) * 1000).toFixed(1)),
      dynamoBusyRatio: Number((dynamoCpu / seconds / median(floorBusy)).toFixed(2)),
    }),
  );
} finally {
  for (const stop of stoppers) await stop().catch(() => undefined);
  dynamoClient.destroy();
  await dynamo.stop();
  await rm(dataDir, { recursive: true, force: true });
}
