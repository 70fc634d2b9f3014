/**
 * bench:agent: what one agent costs its worker node, in memory and CPU. The agent is bundled as infra
 * bundles it and run as the worker's systemd unit runs it (`node agent.mjs`, configured by its
 * LAMBERNETES_AGENT_* variables), in a process of its own, against a throwaway local cluster (API
 * server, scheduler, notifier) and a Podman service standing in for Docker. (bench:pods runs its agents
 * inside the cluster's process, where their memory cannot be told apart.) Read from /proc: its resident
 * memory and CPU at rest (Node Ready, no pods), at their peak while BENCH_AGENT_PODS pods start on it
 * at once, and with those pods running. No proxy or DNS (they would program this host's iptables) and
 * no kubelet endpoint: the pod lifecycle alone. Prints one JSON line last.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { removeAllContainers } from '../agent/agent.js';
import { DockerRuntime } from '../agent/runtime/docker.js';
import { newToken, tokenSecret } from '../functions/apiserver/auth/stored-tokens.js';
import { agentBundleFiles, buildAgentBundle } from '../infra/agent-bundle.js';
import type { Node, Pod } from '../shared/api/core.js';
import { resourceType } from '../shared/api/resources.js';
import { ApiClient } from '../shared/client/client.js';
import { httpsTransport } from '../shared/client/https-transport.js';
import { type LocalCluster, localNodeQueuePrefix, startLocalCluster } from '../shared/local/cluster.js';
import { localCredentials } from '../shared/local/dynamodb-local.js';
import {
  busyboxImage,
  ensureBusyboxImage,
  ensureNetwork,
  type LocalPodman,
  podmanAvailable,
  removeNetwork,
  startPodman,
} from '../shared/local/podman.js';
import { cpuSeconds } from './measure.js';

const podCount = Number(process.env.BENCH_AGENT_PODS ?? 30);
const restSeconds = Number(process.env.BENCH_AGENT_REST_SECONDS ?? 15);
const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 180);
const nodeName = 'bench-agent';
// Far from the local nodes' 10.244.<i>.0/24 (npm start, the tests), which may exist on this host.
const podCIDR = '10.244.250.0/24';
const network = 'lambernetes-bench-agent';
const namespace = 'bench-agent';

const pods = resourceType('pods');
const nodes = resourceType('nodes');
const namespaces = resourceType('namespaces');
const secrets = resourceType('secrets');
const mib = (kB: number) => Number((kB / 1024).toFixed(1));
const isReady = (object: Node | Pod) =>
  object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** A line of /proc/<pid>/status in kB: VmRSS (resident now), VmHWM (resident at its peak). */
async function statusKB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Resets the process's VmHWM to its current RSS (Linux ≥ 4.0), so the next read is this phase's peak. */
const resetPeak = (pid: number) => writeFile(`/proc/${pid}/clear_refs`, '5');

/** Polls until `done` holds; throws `what` after `seconds`. */
async function until(seconds: number, what: () => string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(what());
    await delay(250);
  }
}

/** The agent's average CPU over `seconds` of whatever runs meanwhile, in millicores. */
async function cpuOver<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; millicores: number }> {
  const [before, started] = [await cpuSeconds(pid), performance.now()];
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  return { result, millicores: Math.round((((await cpuSeconds(pid)) - before) / seconds) * 1000) };
}

const unavailable = await podmanAvailable();
if (unavailable) {
  console.error(`bench:agent needs Podman: ${unavailable}`);
  process.exit(1);
}

const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-bench-agent-'));
let cluster: LocalCluster | undefined;
let podman: LocalPodman | undefined;
let agent: ChildProcess | undefined;
try {
  buildAgentBundle(join(dataDir, 'bundle'));
  cluster = await startLocalCluster({
    dataDir,
    inMemory: true,
    port: 0,
    // The notifier makes the node's queue when the Node registers and feeds it; no local agents.
    notifier: true,
    logError: (error) => console.error('cluster error:', error),
  });
  podman = await startPodman({ dataDir: join(dataDir, 'podman') });
  await ensureBusyboxImage(podman.env);
  await ensureNetwork(podman.env, network, podCIDR);
  const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const admin = new ApiClient(httpsTransport({ url: cluster.url, ca }), cluster.token);

  // The node's own credential, as a worker's bootstrap gets it: a stored token for system:node:<name>.
  const token = newToken().token;
  await admin.create(
    secrets,
    tokenSecret(token, { username: `system:node:${nodeName}`, groups: ['system:nodes'] }),
  );
  const agentEnv: Record<string, string> = {
    LAMBERNETES_AGENT_API_SERVER: cluster.url,
    LAMBERNETES_AGENT_CA: ca,
    LAMBERNETES_AGENT_TOKEN: token,
    LAMBERNETES_AGENT_NODE_NAME: nodeName,
    LAMBERNETES_AGENT_POD_CIDR: podCIDR,
    LAMBERNETES_AGENT_QUEUE_PREFIX: localNodeQueuePrefix,
    LAMBERNETES_AGENT_REGION: 'us-east-1',
    LAMBERNETES_AGENT_DOCKER_SOCKET: podman.socketPath,
    LAMBERNETES_AGENT_NETWORK: network,
    LAMBERNETES_AGENT_SANDBOX_IMAGE: busyboxImage,
    LAMBERNETES_AGENT_DATA_DIR: join(dataDir, 'agent'),
    LAMBERNETES_AGENT_RUN_PROXY_AND_DNS: 'false',
  };
  const startedAt = performance.now();
  agent = spawn(process.execPath, [join(dataDir, 'bundle', agentBundleFiles.agent)], {
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: cluster.sqsEndpoint,
      ...agentEnv,
    },
    // Its log to stderr, both streams: stdout's last line is this bench's JSON.
    stdio: ['ignore', 2, 2],
  });
  const exited = new Promise<void>((resolve) => agent?.once('exit', () => resolve()));
  const pid = agent.pid as number;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const alive = () => {
    if (gone) throw new Error(`the agent exited with code ${agent?.exitCode}`);
  };

  await until(
    60,
    () => `node ${nodeName} not Ready after 60 s`,
    async () => {
      alive();
      const node = await admin.find<Node>(nodes, undefined, nodeName);
      return node !== undefined && isReady(node);
    },
  );
  const readyAfterMs = Math.round(performance.now() - startedAt);
  console.log(`node ${nodeName} Ready ${readyAfterMs} ms after the agent started (pid ${pid})`);

  // At rest: Ready, no pods; heartbeats, queue polls and resyncs only.
  const rest = await cpuOver(pid, async () => {
    await delay(restSeconds * 1000);
    alive();
    return statusKB(pid, 'VmRSS');
  });
  console.log(`at rest: RSS ${mib(rest.result)} MiB, CPU ${rest.millicores} millicores`);

  // Under load: the pods all at once, as a Deployment's replicas arrive.
  await admin.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await resetPeak(pid);
  const load = await cpuOver(pid, async () => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: podCount }, (_, i) =>
        admin.create<Pod>(pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${i}`, namespace, labels: { app: 'bench-agent' } },
          spec: {
            containers: [
              { name: 'c', image: busyboxImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
            ],
          },
        }),
      ),
    );
    let ready = 0;
    await until(
      timeoutSeconds,
      () => `only ${ready} of ${podCount} pods Ready after ${timeoutSeconds} s`,
      async () => {
        alive();
        ready = (await admin.list<Pod>(pods, { namespace })).items.filter(isReady).length;
        return ready === podCount;
      },
    );
    return performance.now() - started;
  });
  const peakKB = await statusKB(pid, 'VmHWM');
  console.log(
    `${podCount} pods Ready in ${(load.result / 1000).toFixed(1)} s: peak RSS ${mib(peakKB)} MiB, ` +
      `CPU ${load.millicores} millicores meanwhile`,
  );

  // The pods running: probes of their state, status updates, the same heartbeats.
  const loaded = await cpuOver(pid, async () => {
    await delay(restSeconds * 1000);
    alive();
    return statusKB(pid, 'VmRSS');
  });
  console.log(
    `with ${podCount} pods running: RSS ${mib(loaded.result)} MiB, CPU ${loaded.millicores} millicores`,
  );

  agent.kill('SIGTERM');
  await exited;
  agent = undefined;
  console.log(
    JSON.stringify({
      pods: podCount,
      readyAfterMs,
      rssAtRestMiB: mib(rest.result),
      cpuAtRestMillicores: rest.millicores,
      podsReadyMs: Math.round(load.result),
      rssPeakLoadMiB: mib(peakKB),
      cpuUnderLoadMillicores: load.millicores,
      rssWithPodsMiB: mib(loaded.result),
      cpuWithPodsMillicores: loaded.millicores,
    }),
  );
} finally {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    const exited = new Promise((resolve) => agent?.once('exit', resolve));
    agent.kill('SIGTERM');
    await Promise.race([exited, delay(30_000)]);
  }
  // The agent leaves its pods' containers running when it stops, as on a worker: remove this node's.
  if (podman) {
    const runtime = new DockerRuntime({
      socketPath: podman.socketPath,
      node: nodeName,
      network,
      sandboxImage: busyboxImage,
    });
    await removeAllContainers(runtime).catch((error: unknown) =>
      console.error('removing the containers failed:', error),
    );
    await removeNetwork(podman.env, network).catch(() => undefined);
    await podman.stop();
  }
  await cluster?.stop().catch((error: unknown) => console.error('stopping the cluster failed:', error));
  await rm(dataDir, { recursive: true, force: true });
}
