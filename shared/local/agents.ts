import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Agent, startAgent } from '../../agent/agent.js';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import type { ApiClient } from '../client/client.js';
import { nodeQueueName } from '../queues/node-queue.js';
import { localCredentials } from './dynamodb-local.js';
import { busyboxImage, ensureBusyboxImage, ensureNetwork, podmanAvailable, startPodman } from './podman.js';

export interface LocalAgentsOptions {
  /** Podman's socket and each node's volumes live under `<dataDir>/nodes`. */
  dataDir: string;
  count: number;
  client: ApiClient;
  sqsEndpoint: string;
  nodeQueuePrefix: string;
  logError?: (error: unknown) => void;
}

export interface LocalAgents {
  nodes: string[];
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
  const unavailable = await podmanAvailable();
  if (unavailable) return { unavailable };
  const base = join(options.dataDir, 'nodes');
  const podman = await startPodman({ dataDir: base });
  const agents: Agent[] = [];
  const sqs = new SQSClient({
    endpoint: options.sqsEndpoint,
    region: 'us-east-1',
    credentials: localCredentials,
  });
  const stop = async ({ removeContainers = false } = {}) => {
    for (const agent of agents) await agent.stop({ removeContainers });
    sqs.destroy();
    await podman.stop();
  };
  try {
    await ensureBusyboxImage(podman.env);
    for (let i = 1; i <= options.count; i++) {
      const name = `worker-${i}`;
      const podCIDR = `10.244.${i}.0/24`;
      const network = `lambernetes-${name}`;
      await ensureNetwork(podman.env, network, podCIDR);
      const runtime = new DockerRuntime({
        socketPath: podman.socketPath,
        node: name,
        network,
        sandboxImage: busyboxImage,
      });
      const version = await runtime.version();
      const dataDir = join(base, name);
      await mkdir(dataDir, { recursive: true });
      agents.push(
        await startAgent({
          client: options.client,
          runtime,
          identity: {
            name,
            podCIDR,
            containerRuntimeVersion: version,
            maxPods: 110,
            reserved: { cpuMilli: 100, memoryBytes: 256 * 1024 * 1024 },
            port: 10250,
          },
          dataDir,
          queue: { sqs, name: nodeQueueName(options.nodeQueuePrefix, name), waitSeconds: 5 },
          // One proxy and one DNS server for the host, which all local nodes share: the first agent's.
          // DNS listens on every address, so each node's pods ask their bridge's gateway.
          dns: { clusterDNS: [`10.244.${i}.1`], clusterDomain: 'cluster.local' },
          ...(i === 1 ? { services: { proxy: true, dnsHost: '0.0.0.0', clusterCIDR: '10.244.0.0/16' } } : {}),
          runtimeScheme: version.replace(/:\/\/.*$/, '://'),
          ...(options.logError ? { onError: options.logError } : {}),
        }),
      );
    }
    return { nodes: agents.map((a) => a.nodeName), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
