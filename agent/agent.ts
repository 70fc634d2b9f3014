import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ApiClient } from '../shared/client/client.js';
import { eventRecorder } from '../shared/client/events.js';
import { loadOrCreateCertificates } from '../shared/local/tls.js';
import type { ClusterDNS } from './kubelet/container-spec.js';
import { Kubelet } from './kubelet/kubelet.js';
import { readMachineFacts } from './kubelet/machine.js';
import { startHeartbeats } from './kubelet/node.js';
import type { NodeIdentity } from './kubelet/node-status.js';
import { startPodSource } from './kubelet/pod-source.js';
import { type KubeletServer, startKubeletServer } from './kubelet/server.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { type ServicesOptions, startServices } from './services.js';

export interface AgentOptions {
  client: ApiClient;
  /** The API server's URL, given to containers as KUBERNETES_SERVICE_HOST and _PORT (in-cluster clients). */
  apiServer?: string;
  runtime: ContainerRuntime;
  identity: NodeIdentity;
  /** Pods' volumes live here; its filesystem is the node's disk. */
  dataDir: string;
  /** The node's notification queue (named by `nodeQueueName`). */
  queue: { sqs: SQSClient; name: string; waitSeconds?: number };
  dns: ClusterDNS;
  /** The prefix of container IDs in pod statuses (`docker://`). */
  runtimeScheme: string;
  /** The PLEG's relist (upstream: 1 s). */
  relistIntervalMs?: number;
  /** The full list of the node's pods (upstream: 1 min). */
  resyncIntervalMs?: number;
  leaseIntervalMs?: number;
  /** The endpoint the API server forwards logs and exec to; absent, neither works for this node's pods. */
  server?: { host?: string; port: number; token: string };
  /** kube-proxy's and cluster DNS's part (absent: neither runs here, e.g. another agent of this host has them). */
  services?: Omit<ServicesOptions, 'client' | 'clusterDomain' | 'onError'>;
  onError?: (error: unknown) => void;
}

export interface Agent {
  nodeName: string;
  /** Stops the agent; with `removeContainers`, also every container it ran and its proxy rules (a throwaway cluster). */
  stop(options?: { removeContainers?: boolean }): Promise<void>;
}

/** The kubelet endpoint, with a certificate for the machine's address (made once, kept in the data dir). */
async function startServer(options: AgentOptions, onError: (error: unknown) => void): Promise<KubeletServer> {
  const { internalIP } = await readMachineFacts(options.dataDir);
  const certificates = await loadOrCreateCertificates(join(options.dataDir, 'pki'), [internalIP]);
  return startKubeletServer({
    runtime: options.runtime,
    ...(options.server as NonNullable<AgentOptions['server']>),
    cert: certificates.serverCert,
    key: certificates.serverKey,
    onError,
  });
}

/** Removes every container and sandbox the runtime runs for this node. */
export async function removeAllContainers(runtime: ContainerRuntime): Promise<void> {
  for (const container of await runtime.listContainers()) await runtime.removeContainer(container.id);
  for (const sandbox of await runtime.listSandboxes()) await runtime.removeSandbox(sandbox.id);
}

/**
 * One node's agent: registers the Node and keeps its Lease and status fresh, learns of its pods from
 * its queue and a periodic list, runs them through the container runtime, and relists the runtime
 * every second to notice containers that exit; a restarted agent adopts what runs. With `services`,
 * it also programs the host's iptables for Services and serves cluster DNS.
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { client, runtime } = options;
  const onError =
    options.onError ?? ((error: unknown) => console.error(`agent ${options.identity.name}:`, error));
  const server = options.server ? await startServer(options, onError) : undefined;
  // The port actually bound is the one the Node publishes.
  const identity = server ? { ...options.identity, port: server.port } : options.identity;
  const heartbeats = await startHeartbeats({
    client,
    identity,
    readFacts: () => readMachineFacts(options.dataDir),
    ...(options.leaseIntervalMs ? { leaseIntervalMs: options.leaseIntervalMs } : {}),
    onError,
  }).catch(async (error: unknown) => {
    // Not registered: nothing of this agent may keep running.
    await server?.close();
    throw error;
  });
  const hostIP =
    heartbeats.node().status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
  const events = eventRecorder(client, 'kubelet', () => new Date(), onError);
  const kubelet = new Kubelet({
    client,
    runtime,
    nodeName: identity.name,
    hostIP,
    dataDir: options.dataDir,
    dns: options.dns,
    runtimeScheme: options.runtimeScheme,
    ...(options.apiServer ? { apiServer: options.apiServer } : {}),
    events,
    onError,
  });
  const services = options.services
    ? await startServices({ client, clusterDomain: options.dns.clusterDomain, onError, ...options.services })
    : undefined;
  const relist = setInterval(() => void kubelet.relist().catch(onError), options.relistIntervalMs ?? 1000);
  const source = startPodSource({
    client,
    nodeName: identity.name,
    queue: options.queue,
    ...(options.resyncIntervalMs ? { resyncIntervalMs: options.resyncIntervalMs } : {}),
    onPod: (key) => kubelet.enqueue(key),
    onResync: (keys) => void kubelet.resync(keys).catch(onError),
    ...(services ? { onServices: () => services.refresh() } : {}),
    onError,
  });
  return {
    nodeName: identity.name,
    stop: async ({ removeContainers = false } = {}) => {
      clearInterval(relist);
      await source.stop();
      await kubelet.stop();
      await events.flush();
      await heartbeats.stop();
      await server?.close();
      await services?.stop({ cleanup: removeContainers });
      if (removeContainers) await removeAllContainers(runtime);
    },
  };
}
