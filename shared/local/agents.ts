import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Agent, removeAllContainers, startAgent } from '../../agent/agent.js';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import type { ContainerRuntime } from '../../agent/runtime/runtime.js';
import { SimulatedRuntime } from '../../agent/runtime/simulated.js';
import type { ApiClient } from '../client/client.js';
import type { Meter } from '../metering/meter.js';
import { meterSqs } from '../metering/sqs.js';
import { nodeQueueName } from '../queues/node-queue.js';
import {
  busyboxImage,
  ensureBusyboxImage,
  ensureNetwork,
  type LocalPodman,
  podmanAvailable,
  startPodman,
} from './podman.js';
import { localSqsClient } from './sqs.js';

export interface LocalAgentsOptions {
  /** Podman's socket and each node's volumes live under `<dataDir>/nodes`. */
  dataDir: string;
  count: number;
  /** The API server's URL for pods' in-cluster clients (KUBERNETES_SERVICE_HOST and _PORT). */
  apiServer: string;
  /** The API client a node's agent acts through, with that node's own credential. */
  clientFor: (node: string) => Promise<ApiClient>;
  sqsEndpoint: string;
  nodeQueuePrefix: string;
  /** The token the API server presents to the agents' endpoints (logs, exec). */
  kubeletToken: string;
  /**
   * Nodes without containers: the real agents over a runtime that runs nothing (`SimulatedRuntime`),
   * without Podman, kubelet endpoints, proxy or DNS. What the cost scenarios run many nodes with.
   */
  simulated?: boolean;
  /** How long an agent's receive on its queue waits (the agent's own default, 20 s, on AWS). Default 5. */
  queueWaitSeconds?: number;
  /** Counts the agents' SQS calls (`agent.ReceiveMessage`, …). */
  meter?: Meter;
  logError?: (error: unknown) => void;
}

export interface LocalAgents {
  nodes: string[];
  /**
   * The Podman service the agents use: its socket, and the environment the `podman` CLI needs to see
   * its containers (absent for simulated nodes).
   */
  podman?: Pick<LocalPodman, 'socketPath' | 'env'>;
  /**
   * Stops one node's agent and leaves its containers running, as a node that died or lost its network
   * would: its Lease goes stale and the control plane takes its pods elsewhere.
   */
  stopNode(name: string): Promise<void>;
  /** Starts a stopped node's agent again; it adopts the containers it finds and removes stale ones. */
  startNode(name: string): Promise<void>;
  stop(options?: { removeContainers?: boolean }): Promise<void>;
}

/**
 * `count` worker nodes on this machine, as `npm start` runs them: one Podman service (its
 * Docker-compatible API), the offline busybox image, and per node `worker-<i>` a bridge network on its
 * pod CIDR 10.244.<i>.0/24 and an agent. When Podman is missing, the reason instead.
 */
export async function startLocalAgents(
  options: LocalAgentsOptions,
): Promise<LocalAgents | { unavailable: string }> {
  const unavailable = options.simulated ? undefined : await podmanAvailable();
  if (unavailable) return { unavailable };
  const base = join(options.dataDir, 'nodes');
  const podman = options.simulated ? undefined : await startPodman({ dataDir: base });
  const nodes = Array.from({ length: options.count }, (_, i) => `worker-${i + 1}`);
  const running = new Map<string, Agent>();
  const sqs = localSqsClient(options.sqsEndpoint);
  if (options.meter) meterSqs(sqs, options.meter, { prefix: 'agent.' });
  const podCIDROf = (name: string) => `10.244.${nodes.indexOf(name) + 1}.0/24`;
  const runtimes = new Map<string, ContainerRuntime>();
  const runtimeOf = (name: string) => {
    let runtime = runtimes.get(name);
    if (!runtime) {
      runtime = podman
        ? new DockerRuntime({
            socketPath: podman.socketPath,
            node: name,
            network: `lambernetes-${name}`,
            sandboxImage: busyboxImage,
          })
        : new SimulatedRuntime(podCIDROf(name));
      runtimes.set(name, runtime);
    }
    return runtime;
  };

  const startNode = async (name: string) => {
    const i = nodes.indexOf(name) + 1;
    if (i === 0) throw new Error(`no local node ${name}`);
    if (running.has(name)) return;
    const podCIDR = podCIDROf(name);
    if (podman) await ensureNetwork(podman.env, `lambernetes-${name}`, podCIDR);
    const runtime = runtimeOf(name);
    const version = await runtime.version();
    const dataDir = join(base, name);
    await mkdir(dataDir, { recursive: true });
    const agent = await startAgent({
      client: await options.clientFor(name),
      apiServer: options.apiServer,
      runtime,
      identity: {
        name,
        podCIDR,
        containerRuntimeVersion: version,
        maxPods: 110,
        reserved: { cpuMilli: 100, memoryBytes: 256 * 1024 * 1024 },
        port: 10250,
      },
      // Every local agent shares the host's addresses: each listens on a port of its own.
      ...(podman ? { server: { port: 0, token: options.kubeletToken } } : {}),
      dataDir,
      queue: {
        sqs,
        name: nodeQueueName(options.nodeQueuePrefix, name),
        waitSeconds: options.queueWaitSeconds ?? 5,
      },
      // One proxy and one DNS server for the host, which all local nodes share: the first agent's.
      // DNS listens on every address, so each node's pods ask their bridge's gateway.
      dns: { clusterDNS: [`10.244.${i}.1`], clusterDomain: 'cluster.local' },
      ...(i === 1 && podman
        ? { services: { proxy: true, dnsHost: '0.0.0.0', clusterCIDR: '10.244.0.0/16' } }
        : {}),
      runtimeScheme: version.replace(/:\/\/.*$/, '://'),
      ...(options.logError ? { onError: options.logError } : {}),
    });
    running.set(name, agent);
  };

  const stopNode = async (name: string, removeContainers = false) => {
    const agent = running.get(name);
    running.delete(name);
    await agent?.stop({ removeContainers });
  };

  const stop = async ({ removeContainers = false } = {}) => {
    for (const name of nodes) {
      if (running.has(name)) await stopNode(name, removeContainers);
      // A node stopped earlier left its containers running.
      else if (removeContainers) await removeAllContainers(runtimeOf(name));
    }
    sqs.destroy();
    await podman?.stop();
  };
  try {
    if (podman) await ensureBusyboxImage(podman.env);
    for (const name of nodes) await startNode(name);
    return {
      nodes,
      ...(podman ? { podman: { socketPath: podman.socketPath, env: podman.env } } : {}),
      stopNode: (name) => stopNode(name),
      startNode,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
