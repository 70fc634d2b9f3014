/**
 * bench:pods: 30 pods (busybox `sleep 3600`, no readiness probe) started on a fresh throwaway local
 * cluster with two agents running real containers through Podman. A pod's startup is the time from
 * the moment its create request was SENT (so the API server's create is part of it, as it is for
 * `kubectl apply`) to the moment a watch on the namespace first shows its Ready condition True: the
 * API server, the scheduler, the notifier's node queue, the agent, the sandbox and the container.
 * The floor, measured in the same run before the pods: a plain `podman run -d` of the same image
 * through the CLI against the agents' Podman. Targets (reported, not asserted): startup p50 ≤ 2 s,
 * p99 ≤ 5 s. Prints one JSON line last.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Node, Pod } from '../shared/api/core.js';
import { resourceType } from '../shared/api/resources.js';
import { ApiClient } from '../shared/client/client.js';
import { httpsTransport } from '../shared/client/https-transport.js';
import { type LocalCluster, startLocalCluster } from '../shared/local/cluster.js';
import { busyboxImage } from '../shared/local/podman.js';
import { cpuSecondsMatching, median, percentile } from './measure.js';

const podCount = Number(process.env.BENCH_PODS ?? 30);
const floorRuns = Number(process.env.BENCH_FLOOR_RUNS ?? 10);
const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 180);
const namespace = 'bench';

const pods = resourceType('pods');
const nodes = resourceType('nodes');
const namespaces = resourceType('namespaces');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const isReady = (object: Node | Pod) =>
  object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Runs `podman` with the cluster's Podman environment; rejects with its stderr when it fails. */
function podman(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('podman', args, { env }, (error, stdout, stderr) => {
      if (error) reject(new Error(`podman ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * The floor: `floorRuns` timed `podman run -d` of the image, each container removed (untimed) before
 * the next, after one untimed run that pays whatever a first run pays.
 */
async function podmanRunFloor(env: NodeJS.ProcessEnv): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= floorRuns; i++) {
    const name = `lambernetes-bench-floor-${i}`;
    const started = performance.now();
    await podman(env, ['run', '-d', '--rm=false', '--name', name, busyboxImage, 'sleep', '3600']);
    if (i > 0) times.push(performance.now() - started);
    await podman(env, ['rm', '-f', '-t', '0', name]);
  }
  return times;
}

/** CPU seconds the whole machine has spent busy so far (all but idle and iowait), from /proc/stat. */
async function machineCpu(): Promise<{ busy: number; cores: number }> {
  const lines = (await readFile('/proc/stat', 'utf8')).split('\n');
  const [, ...ticks] = (lines[0] as string).trim().split(/\s+/).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const cores = lines.filter((line) => /^cpu\d/.test(line)).length;
  return { busy: (total - idle) / 100, cores }; // clock ticks (USER_HZ = 100)
}

const dynamoPattern = 'DynamoDBLocal';
const podmanPattern = 'system service';

/** Waits until every node of the cluster reports Ready, so that the pods do not wait for registration. */
async function nodesReady(client: ApiClient, names: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { items } = await client.list<Node>(nodes);
    const ready = items.filter((n) => names.includes(n.metadata.name) && isReady(n)).length;
    if (ready === names.length) return;
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${names.length} nodes Ready after 60 s`);
    await delay(200);
  }
}

/** The pods that were not Ready in time and where each stands, to say where startup got stuck. */
async function describeStuck(client: ApiClient, ready: Map<string, number>): Promise<string> {
  const { items } = await client.list<Pod>(pods, { namespace });
  return items
    .filter((pod) => !ready.has(pod.metadata.name))
    .map((pod) => {
      const waiting = (pod.status?.containerStatuses ?? [])
        .map((c) => JSON.stringify(c.state ?? {}))
        .join(' ');
      const conditions = (pod.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(',');
      return `  ${pod.metadata.name}: node ${pod.spec.nodeName ?? '(none)'}, phase ${pod.status?.phase ?? '?'}, ${conditions || 'no conditions'} ${waiting}`;
    })
    .join('\n');
}

async function measure(cluster: LocalCluster, client: ApiClient, env: NodeJS.ProcessEnv) {
  await nodesReady(client, cluster.nodes);
  // What the idle cluster costs (stream polls, heartbeats, queue polls): the base the pods add to.
  const idleSeconds = 5;
  const [idleMachine, idleDynamo] = [await machineCpu(), await cpuSecondsMatching(dynamoPattern)];
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleMachineAfter = await machineCpu();
  console.log(
    `idle cluster: the machine ${((idleMachineAfter.busy - idleMachine.busy) / idleSeconds).toFixed(2)} CPUs busy, ` +
      `DynamoDB Local ${(((await cpuSecondsMatching(dynamoPattern)) - idleDynamo) / idleSeconds).toFixed(2)}`,
  );
  console.log(`nodes ${cluster.nodes.join(', ')} Ready`);

  // The floor first, on the same Podman while the agents idle: after the pods, their 2 × 30 containers
  // (sandbox and container each) would share Podman and the two cores with it and inflate the floor.
  const floor = await podmanRunFloor(env);
  console.log(
    `floor: ${floorRuns} × podman run -d ${busyboxImage}: p50 ${median(floor).toFixed(0)} ms, ` +
      `min ${Math.min(...floor).toFixed(0)} ms, max ${Math.max(...floor).toFixed(0)} ms`,
  );

  await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });

  // Watch from before the first create; reopen from the last revision seen if the server ends it.
  const ready = new Map<string, number>();
  const bound = new Map<string, number>();
  const placed = new Map<string, string>();
  const watchAbort = new AbortController();
  let { resourceVersion } = await client.list<Pod>(pods, { namespace });
  const allReady = new Promise<void>((resolve, reject) => {
    (async () => {
      while (!watchAbort.signal.aborted) {
        for await (const event of client.watch<Pod>(pods, {
          namespace,
          resourceVersion,
          signal: watchAbort.signal,
        })) {
          const pod = event.object;
          resourceVersion = pod.metadata.resourceVersion ?? resourceVersion;
          if (event.type === 'BOOKMARK' || event.type === 'DELETED') continue;
          if (pod.spec.nodeName && !placed.has(pod.metadata.name)) {
            bound.set(pod.metadata.name, performance.now());
            placed.set(pod.metadata.name, pod.spec.nodeName);
          }
          if (isReady(pod) && !ready.has(pod.metadata.name)) {
            ready.set(pod.metadata.name, performance.now());
            if (ready.size === podCount) resolve();
          }
        }
      }
    })().then(resolve, (error: unknown) => (watchAbort.signal.aborted ? resolve() : reject(error)));
  });
  // All at once: 30 pods arriving together is what a `kubectl apply` of 30 pods or a 30-replica
  // Deployment brings, and the burst is where the two agents queue; pacing the creates (5 at a time)
  // would spread the load and measure a quieter case than the targets are about.
  const sent = new Map<string, number>();
  const createMs: number[] = [];
  const timeout = setTimeout(() => watchAbort.abort(), timeoutSeconds * 1000);
  const [cpuBefore, processCpuBefore] = [await machineCpu(), process.cpuUsage()];
  const [dynamoBefore, podmanBefore] = [
    await cpuSecondsMatching(dynamoPattern),
    await cpuSecondsMatching(podmanPattern),
  ];
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: podCount }, async (_, i) => {
        const name = `p-${i}`;
        const at = performance.now();
        sent.set(name, at);
        await client.create<Pod>(pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace, labels: { app: 'bench-pods' } },
          spec: {
            containers: [
              { name: 'c', image: busyboxImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
            ],
          },
        });
        createMs.push(performance.now() - at);
      }),
    );
    console.log(
      `${podCount} pods created in ${seconds(performance.now() - started)} ` +
        `(create request p50 ${median(createMs).toFixed(0)} ms, max ${Math.max(...createMs).toFixed(0)} ms)`,
    );

    await allReady;
  } finally {
    clearTimeout(timeout);
    watchAbort.abort();
  }
  if (ready.size < podCount) {
    throw new Error(
      `only ${ready.size} of ${podCount} pods Ready in ${timeoutSeconds} s; the others:\n${await describeStuck(client, ready)}`,
    );
  }
  const finished = Math.max(...ready.values());
  const perNode = new Map<string, number>();
  for (const node of placed.values()) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  console.log(
    `${podCount} pods Ready ${seconds(finished - started)} after the first create; ` +
      `per node: ${[...perNode].map(([node, n]) => `${node} ${n}`).join(', ')}`,
  );
  const cpuAfter = await machineCpu();
  const processCpu = process.cpuUsage(processCpuBefore);
  const [dynamoCpu, podmanCpu] = [
    (await cpuSecondsMatching(dynamoPattern)) - dynamoBefore,
    (await cpuSecondsMatching(podmanPattern)) - podmanBefore,
  ];
  const wall = (finished - started) / 1000;
  const startup = [...sent].map(([name, at]) => (ready.get(name) as number) - at);
  const toBound = [...sent].map(([name, at]) => (bound.get(name) ?? (ready.get(name) as number)) - at);
  const boundToReady = [...ready].map(([name, at]) => at - (bound.get(name) ?? at));
  const ms = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(0)} ms, p99 ${percentile(xs, 99).toFixed(0)} ms`;
  console.log(`create → bound: ${ms(toBound)}; bound → Ready: ${ms(boundToReady)}`);
  console.log(
    `while the pods started: the machine's ${cpuAfter.cores} cores ${(((cpuAfter.busy - cpuBefore.busy) / wall / cpuAfter.cores) * 100).toFixed(0)} % busy; ` +
      `this process (API server, control loops, both agents) ${((processCpu.user + processCpu.system) / 1e6 / wall).toFixed(2)} CPUs, ` +
      `DynamoDB Local ${(dynamoCpu / wall).toFixed(2)}, the Podman service ${(podmanCpu / wall).toFixed(2)}`,
  );
  return { startup, floor };
}

const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-bench-'));
let clusterErrors = 0;
let cluster: LocalCluster | undefined;
try {
  console.log('starting a local cluster with 2 agents…');
  const clusterStarted = performance.now();
  cluster = await startLocalCluster({
    dataDir,
    inMemory: true,
    port: 0,
    agents: 2,
    logError: (error) => {
      clusterErrors++;
      console.error('cluster error:', error);
    },
  });
  if (cluster.agentsUnavailable || !cluster.agents) {
    console.error(`no agents: ${cluster.agentsUnavailable ?? 'unknown reason'}`);
    process.exitCode = 1;
  } else {
    console.log(`cluster up in ${seconds(performance.now() - clusterStarted)} at ${cluster.url}`);
    const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
    const client = new ApiClient(httpsTransport({ url: cluster.url, ca }), cluster.token);
    const { startup, floor } = await measure(cluster, client, cluster.agents.podman?.env ?? {});
    const startupP50Ms = Math.round(percentile(startup, 50));
    const startupP99Ms = Math.round(percentile(startup, 99));
    const podmanRunP50Ms = Math.round(median(floor));
    console.log(
      `startup p50 ${startupP50Ms} ms (target ≤ 2000), p99 ${startupP99Ms} ms (target ≤ 5000), ` +
        `max ${Math.round(Math.max(...startup))} ms; ${clusterErrors} errors logged by the cluster`,
    );
    console.log(
      JSON.stringify({
        pods: podCount,
        startupP50Ms,
        startupP99Ms,
        podmanRunP50Ms,
        overheadRatio: Number((startupP50Ms / podmanRunP50Ms).toFixed(2)),
      }),
    );
  }
} finally {
  await cluster?.stop().catch((error: unknown) => console.error('stopping the cluster failed:', error));
  await rm(dataDir, { recursive: true, force: true });
}
