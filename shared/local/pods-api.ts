/**
 * How pods reach the local API server, which otherwise listens on loopback only: a second listener on
 * an address of the host's own that every node's bridge routes to (10.244.0.1, in no local node's pod
 * CIDR, which start at 10.244.1.0/24), behind the `kubernetes` Service. Not on every interface: the
 * cluster stays out of reach of the host's network, as kind's does.
 */
import type { ApiClient } from '../client/client.js';
import type { ApiHandler, UpgradeHandler } from '../http/contract.js';
import { addHostAddress, removeHostAddress } from './host-address.js';
import { startHttpsServer } from './https-server.js';
import {
  kubernetesServiceIP,
  kubernetesServicePort,
  reconcileKubernetesService,
} from './kubernetes-service.js';

export const podsApiAddress = '10.244.0.1';

export interface PodsApiOptions {
  handler: ApiHandler;
  upgrade: UpgradeHandler;
  /** The port to listen on, the API server's own. */
  port: number;
  cert: string;
  key: string;
  /** Writes the `kubernetes` Service and its endpoints. */
  admin: ApiClient;
}

/** The URL pods' clients use and how to stop serving them; or why pods cannot reach the API server. */
export async function serveApiToPods(
  options: PodsApiOptions,
): Promise<{ url: string; stop(): Promise<void> } | { unavailable: string }> {
  const { admin, ...listener } = options;
  const unavailable = await addHostAddress(podsApiAddress);
  if (unavailable) return { unavailable: `pods cannot reach the API server: ${unavailable}` };
  try {
    const server = await startHttpsServer({ ...listener, host: podsApiAddress });
    await reconcileKubernetesService(admin, { ip: podsApiAddress, port: options.port }).catch(
      async (error: unknown) => {
        await server.close();
        throw error;
      },
    );
    return {
      url: `https://${kubernetesServiceIP}:${kubernetesServicePort}`,
      stop: async () => {
        await server.close();
        await removeHostAddress();
      },
    };
  } catch (error) {
    await removeHostAddress();
    throw error;
  }
}
