/**
 * An address of this host that containers on every local node's bridge reach: kept on an empty bridge
 * of its own, so it exists before any container does (Podman makes a network's bridge only when its
 * first container starts) and goes with one command. kube-proxy's IPVS mode holds service addresses on
 * a dummy interface the same way; these machines' kernels have no dummy interfaces, bridges they have.
 */
import { run } from './command.js';

const hostAddressDevice = 'lambernetes0';

/** Puts `ip` on the device (made if missing); the reason when that cannot be done (no root, no `ip`). */
export async function addHostAddress(ip: string): Promise<string | undefined> {
  try {
    await run('ip', ['link', 'add', hostAddressDevice, 'type', 'bridge']).catch((error: Error) => {
      if (!error.message.includes('File exists')) throw error;
    });
    await run('ip', ['address', 'replace', `${ip}/32`, 'dev', hostAddressDevice]);
    await run('ip', ['link', 'set', hostAddressDevice, 'up']);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function removeHostAddress(): Promise<void> {
  await run('ip', ['link', 'delete', hostAddressDevice]).catch(() => {});
}
