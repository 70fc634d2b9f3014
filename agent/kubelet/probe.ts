/**
 * One probe attempt against a running container, as upstream's `pkg/probe/{http,tcp,exec}`: the I/O
 * half of probing. When to probe and what the results mean is `prober.ts`.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, ContainerPort } from '../../shared/api/core.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { ExecTimeoutError } from '../runtime/runtime.js';
import { kubeletVersion } from './node-status.js';

/** `core/v1` Probe: only the fields the kubelet reads (core.ts does not carry it). */
export interface Probe {
  exec?: { command?: string[] };
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: 'HTTP' | 'HTTPS';
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

/** The container fields a probe reads: named ports, and static env for `$(VAR)` in exec commands. */
export type ProbedContainer = Pick<Container, 'name' | 'ports'> & {
  env?: { name: string; value?: string }[];
};

export interface ProbeTarget {
  /** Default host of httpGet and tcpSocket probes. */
  podIP: string;
  containerId: string;
  exec: ContainerRuntime['exec'];
}

export interface ProbeOutcome {
  result: 'success' | 'failure';
  /** Why it failed, worded as upstream's prober (shown in `Unhealthy` events). */
  message?: string;
}

/** Upstream reads at most this much of an HTTP probe's body. */
const maxBodyBytes = 10 * 1024;
/** `kube-probe/<major>.<minor>`, upstream's User-Agent for HTTP probes. */
const userAgent = `kube-probe/${kubeletVersion.replace(/^v(\d+)\.(\d+).*$/, '$1.$2')}`;

export async function runProbe(
  probe: Probe,
  target: ProbeTarget,
  container: ProbedContainer,
): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, container, timeoutMs);
    if (probe.httpGet) {
      const { host, port, path, scheme, httpHeaders } = probe.httpGet;
      return await httpProbe(
        {
          scheme: (scheme ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http',
          host: host || target.podIP,
          port: resolvePort(port, container.ports),
          path: path ?? '',
          headers: httpHeaders ?? [],
        },
        timeoutMs,
      );
    }
    if (probe.tcpSocket) {
      const { host, port } = probe.tcpSocket;
      return await tcpProbe(host || target.podIP, resolvePort(port, container.ports), timeoutMs);
    }
    if (probe.grpc) return { result: 'failure', message: 'grpc probes are not supported' };
    return { result: 'failure', message: 'missing probe handler' };
  } catch (error) {
    // A probe that cannot even be attempted (unknown named port): upstream discards such errors; here
    // they fail the attempt, which is what a misconfigured probe should eventually do.
    return { result: 'failure', message: (error as Error).message };
  }
}

/** A port number, or a name looked up in the container's ports (upstream `extractPort`). */
export function resolvePort(port: number | string, ports: ContainerPort[] | undefined): number {
  let resolved: number;
  if (typeof port === 'number') resolved = port;
  else {
    const named = ports?.find((p) => p.name === port);
    if (named) resolved = named.containerPort;
    else if (/^\d+$/.test(port)) resolved = Number(port);
    else throw new Error(`port ${port} not found`);
  }
  if (resolved > 0 && resolved < 65536) return resolved;
  throw new Error(`invalid port number: ${resolved}`);
}

async function execProbe(
  command: string[],
  target: ProbeTarget,
  container: ProbedContainer,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const expanded = expandStatic(command, container.env ?? []);
  try {
    const { exitCode, output } = await target.exec(target.containerId, expanded, timeoutMs);
    return exitCode === 0 ? { result: 'success' } : { result: 'failure', message: output };
  } catch (error) {
    if (error instanceof ExecTimeoutError) {
      return { result: 'failure', message: `command ${JSON.stringify(expanded.join(' '))} timed out` };
    }
    throw error;
  }
}

/** `$(VAR)` from the container's literal env values, `$$` for a `$` (upstream `ExpandContainerCommandOnlyStatic`). */
function expandStatic(command: string[], env: { name: string; value?: string }[]): string[] {
  const values = new Map(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
  return command.map((arg) =>
    arg.replace(/\$\$|\$\(([^)]*)\)/g, (whole, name: string | undefined) =>
      name === undefined ? '$' : (values.get(name) ?? whole),
    ),
  );
}

interface HttpGet {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
}

function httpProbe(get: HttpGet, timeoutMs: number): Promise<ProbeOutcome> {
  const hostPort = joinHostPort(get.host, get.port);
  const path = get.path.startsWith('/') ? get.path : `/${get.path}`;
  const url = `${get.scheme}://${hostPort}${path}`;
  const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: '*/*' };
  for (const { name, value } of get.headers) {
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
    if (existing) delete headers[existing];
    headers[name] = value;
  }
  return new Promise((resolve) => {
    let phase: 'headers' | 'body' = 'headers';
    let settled = false;
    const settle = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(outcome);
    };
    const request = (get.scheme === 'https' ? https : http).request({
      host: get.host,
      port: get.port,
      path,
      method: 'GET',
      headers,
      agent: false,
      // Upstream skips certificate verification for HTTPS probes.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(
      () =>
        settle({
          result: 'failure',
          message:
            phase === 'headers'
              ? `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
              : `Get "${url}": context deadline exceeded (Client.Timeout or context cancellation while reading body)`,
        }),
      timeoutMs,
    );
    request.on('error', (error) =>
      settle({ result: 'failure', message: `Get "${url}": ${dialError(error, hostPort)}` }),
    );
    request.on('response', (response) => {
      phase = 'body';
      const status = response.statusCode ?? 0;
      const outcome: ProbeOutcome =
        status >= 200 && status < 400
          ? { result: 'success' }
          : { result: 'failure', message: `HTTP probe failed with statuscode: ${status}` };
      // Like upstream, the result waits for the body, of which at most 10 KB is read.
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= maxBodyBytes) settle(outcome);
      });
      response.on('end', () => settle(outcome));
      response.on('error', (error) =>
        settle({ result: 'failure', message: `Get "${url}": ${error.message}` }),
      );
    });
    request.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  const hostPort = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const settle = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => settle({ result: 'failure', message: `dial tcp ${hostPort}: i/o timeout` }),
      timeoutMs,
    );
    socket.on('connect', () => settle({ result: 'success' }));
    socket.on('error', (error) => settle({ result: 'failure', message: dialError(error, hostPort) }));
  });
}

/** Go's wording for the dial errors a probe meets most. */
function dialError(error: NodeJS.ErrnoException, hostPort: string): string {
  const syscall: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
  };
  const known = error.code ? syscall[error.code] : undefined;
  if (known) return `dial tcp ${hostPort}: ${known}`;
  if (error.code === 'ECONNRESET') return 'read: connection reset by peer';
  return error.message;
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
