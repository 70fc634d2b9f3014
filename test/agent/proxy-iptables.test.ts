/**
 * The service proxy against the real iptables of this host (root only). The "pod" is a TCP server on
 * the host's own non-loopback address: DNAT from OUTPUT to 127.0.0.1 would need route_localnet. All
 * chains use the prefix LMBT, so cleanup cannot touch an agent's LMB chains.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Iptables } from '../../agent/proxy/iptables.js';
import { ServiceProxy } from '../../agent/proxy/proxy.js';
import type { EndpointSlice } from '../../agent/proxy/rules.js';
import type { Service } from '../../shared/api/core.js';

const exec = promisify(execFile);
const prefix = 'LMBT';

async function unavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    await exec('iptables', ['--version']);
    await exec('iptables-save', ['-t', 'nat']);
  } catch (error) {
    return `iptables unusable: ${(error as Error).message}`;
  }
  return (await hostAddress()) ? undefined : 'no non-loopback IPv4 address on the default route';
}

/** The IPv4 address of the interface of the default route (e.g. eth0's). */
async function hostAddress(): Promise<string | undefined> {
  const { stdout } = await exec('ip', ['-4', 'route', 'show', 'default']).catch(() => ({ stdout: '' }));
  const dev = /\bdev (\S+)/.exec(stdout)?.[1];
  const addresses = (dev && os.networkInterfaces()[dev]) || [];
  return addresses.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

const reason = await unavailable();
if (reason) console.log(`proxy-iptables tests skipped: ${reason}`);

/** Connects and reads until the server closes; rejects on error or after `timeoutMs`. */
function fetchOnce(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out connecting to ${host}:${port}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe.skipIf(reason !== undefined)('the service proxy on the real iptables', () => {
  const clusterIP = `10.96.254.${2 + Math.floor(Math.random() * 250)}`;
  const nodePort = 30000 + Math.floor(Math.random() * 2700);
  let host = '';
  let server: net.Server;
  let serverPort = 0;
  let accepted = 0;
  const applies: string[] = [];
  const real = new Iptables({ prefix });
  // The real iptables, recording what the proxy restores.
  const iptables = {
    prefix,
    currentChains: () => real.currentChains(),
    apply: async (text: string) => {
      applies.push(text);
      await real.apply(text);
    },
    ensureJumps: () => real.ensureJumps(),
    cleanup: () => real.cleanup(),
  };
  const proxy = new ServiceProxy({ iptables });

  const service: Service = {
    metadata: { name: 'web', namespace: 'proxy-test' },
    spec: {
      type: 'NodePort',
      clusterIP,
      ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort }],
    },
  };
  const slice = (ready: boolean): EndpointSlice => ({
    metadata: {
      name: 'web-1',
      namespace: 'proxy-test',
      labels: { 'kubernetes.io/service-name': 'web' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [host], conditions: { ready } }],
    ports: [{ name: 'http', port: serverPort, protocol: 'TCP' }],
  });

  beforeAll(async () => {
    host = (await hostAddress()) ?? '';
    server = net.createServer((socket) => {
      accepted++;
      socket.end('hello from the pod');
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    serverPort = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await proxy.stop({ cleanup: true });
    await real.cleanup();
    await new Promise((resolve) => server?.close(resolve));
    const { stdout } = await exec('iptables-save', ['-t', 'nat']);
    expect(stdout).not.toContain(`${prefix}-`);
  });

  it('reaches the endpoint through the ClusterIP', async () => {
    await proxy.update([service], [slice(true)]);
    expect(await fetchOnce(clusterIP, 80)).toBe('hello from the pod');
  });

  it('reaches the endpoint through the node port on the host address', async () => {
    await proxy.update([service], [slice(true)]);
    expect(await fetchOnce(host, nodePort)).toBe('hello from the pod');
  });

  it('installs the jumps once, however often it syncs', async () => {
    await proxy.update([service], [slice(true)]);
    const { stdout } = await exec('iptables-save', ['-t', 'nat']);
    const jumps = stdout.split('\n').filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j LMBT-/.test(l));
    expect(jumps.map((l) => l.split(' ')[1]).sort()).toEqual(['OUTPUT', 'POSTROUTING', 'PREROUTING']);
  });

  it('coalesces a burst of updates into at most two restores, the latest state winning', async () => {
    applies.length = 0;
    const burst = Array.from({ length: 5 }, (_, i) => proxy.update([service], [slice(i % 2 === 0)]));
    await Promise.all(burst);
    expect(applies.length).toBeLessThanOrEqual(2);
    expect(applies.at(-1)).toContain(`--to-destination ${host}:${serverPort}`);
  });

  it('stops reaching the endpoint once it is no longer ready, and deletes its chains', async () => {
    await proxy.update([service], [slice(false)]);
    const before = accepted;
    await expect(fetchOnce(clusterIP, 80, 1000)).rejects.toThrow();
    expect(accepted).toBe(before);
    expect((await real.currentChains()).filter((c) => c.includes('-SVC-') || c.includes('-SEP-'))).toEqual(
      [],
    );
  });

  it('removes every chain and jump of its prefix on cleanup', async () => {
    await proxy.update([service], [slice(true)]);
    await real.cleanup();
    const { stdout } = await exec('iptables-save', ['-t', 'nat']);
    expect(stdout).not.toContain(`${prefix}-`);
    expect(await real.currentChains()).toEqual([]);
  });
});
