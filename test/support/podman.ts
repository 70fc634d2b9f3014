import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureBusyboxImage,
  ensureNetwork,
  type LocalPodman,
  removeNetwork,
  startPodman,
} from '../../shared/local/podman.js';

export interface TestPodman extends LocalPodman {
  dataDir: string;
  /** A bridge network of this test file's own, and its subnet. */
  network: string;
  subnet: string;
}

/**
 * A Podman service in a temporary folder, the busybox image, and a fresh network on a random /24 of
 * 10.200.0.0/13 (retried when another test file's network took the subnet). `stop` removes the network.
 */
export async function startTestPodman(): Promise<TestPodman> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-podman-'));
  const podman = await startPodman({ dataDir });
  try {
    await ensureBusyboxImage(podman.env);
    const network = `lbn-test-${randomUUID().slice(0, 8)}`;
    for (let attempt = 1; ; attempt++) {
      const subnet = `10.${200 + randomInt(8)}.${randomInt(256)}.0/24`;
      try {
        await ensureNetwork(podman.env, network, subnet);
        return {
          ...podman,
          dataDir,
          network,
          subnet,
          stop: async () => {
            await removeNetwork(podman.env, network);
            await podman.stop();
            await rm(dataDir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
  } catch (error) {
    await podman.stop();
    throw error;
  }
}
