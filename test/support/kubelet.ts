import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeAllContainers } from '../../agent/agent.js';
import { Kubelet } from '../../agent/kubelet/kubelet.js';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import { busyboxImage } from '../../shared/local/podman.js';
import { startTestCluster, type TestCluster } from './cluster.js';
import { startTestPodman, type TestPodman } from './podman.js';

export interface TestKubelet {
  cluster: TestCluster;
  podman: TestPodman;
  runtime: DockerRuntime;
  kubelet: Kubelet;
  nodeName: string;
  /** The node's data dir (pods' volumes). */
  dataDir: string;
  /** Every error the kubelet reported: a test expects none. */
  errors: unknown[];
  stop(): Promise<void>;
}

/**
 * A kubelet for a node of its own (`<prefix>-<random>`), running pods through a Podman service of its
 * own against an API server with no control plane (tests bind pods and enqueue them), relisting the
 * runtime every 500 ms. `stop` removes every container, the Podman service and the folders.
 */
export async function startTestKubelet(prefix: string): Promise<TestKubelet> {
  const nodeName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const [cluster, podman] = await Promise.all([startTestCluster({ controlPlane: false }), startTestPodman()]);
  const dataDir = await mkdtemp(join(tmpdir(), `lambernetes-${prefix}-`));
  const errors: unknown[] = [];
  const runtime = new DockerRuntime({
    socketPath: podman.socketPath,
    node: nodeName,
    network: podman.network,
    sandboxImage: busyboxImage,
  });
  const kubelet = new Kubelet({
    client: cluster.client,
    runtime,
    nodeName,
    hostIP: '127.0.0.1',
    dataDir,
    dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' },
    runtimeScheme: 'docker://',
    onError: (error) => errors.push(error),
  });
  const relisting = setInterval(
    () => void kubelet.relist().catch((error: unknown) => errors.push(error)),
    500,
  );
  return {
    cluster,
    podman,
    runtime,
    kubelet,
    nodeName,
    dataDir,
    errors,
    stop: async () => {
      clearInterval(relisting);
      await kubelet.stop();
      await removeAllContainers(runtime);
      await podman.stop();
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
