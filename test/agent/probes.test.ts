import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Probe, type ProbeTarget, runProbe } from '../../agent/kubelet/probe.js';
import {
  initialProbeState,
  type ProbeKind,
  type ProbeState,
  ProbeWorker,
  probeFailedMessage,
  startProbes,
} from '../../agent/kubelet/prober.js';
import { ExecTimeoutError } from '../../agent/runtime/runtime.js';
import type { Container, Pod } from '../../shared/api/core.js';
import { until } from '../support/wait.js';

const t0 = 1_700_000_000_000;
const s = (seconds: number) => t0 + seconds * 1000;

/** Drives a worker as the timer driver would: attempts at each due time, with scripted results. */
function drive(worker: ProbeWorker, results: ('success' | 'failure')[], started = true) {
  const seen: { at: number; state: ProbeState | undefined }[] = [];
  for (const result of results) {
    const at = worker.nextAttemptAt(started);
    if (at === undefined) break;
    seen.push({ at: (at - t0) / 1000, state: worker.record(at, result) });
  }
  return seen;
}

describe('ProbeWorker', () => {
  it('starts readiness not ready, liveness alive and startup undecided', () => {
    expect(initialProbeState('readiness')).toBe('failure');
    expect(initialProbeState('liveness')).toBe('success');
    expect(initialProbeState('startup')).toBe('unknown');
    expect(new ProbeWorker('readiness', {}, t0).state).toBe('failure');
  });

  it('becomes ready on the first success and not ready after failureThreshold failures in a row', () => {
    const worker = new ProbeWorker('readiness', { periodSeconds: 5 }, t0);
    expect(
      drive(worker, ['success', 'failure', 'failure', 'success', 'failure', 'failure', 'failure']),
    ).toEqual([
      { at: 0, state: 'success' },
      { at: 5, state: undefined },
      { at: 10, state: undefined },
      { at: 15, state: undefined },
      { at: 20, state: undefined },
      { at: 25, state: undefined },
      { at: 30, state: 'failure' },
    ]);
  });

  it('needs successThreshold successes in a row to become ready', () => {
    const worker = new ProbeWorker('readiness', { successThreshold: 2 }, t0);
    expect(drive(worker, ['success', 'failure', 'success', 'success']).map((x) => x.state)).toEqual([
      undefined,
      undefined,
      undefined,
      'success',
    ]);
  });

  it('asks for a restart after failureThreshold liveness failures in a row, then stops probing', () => {
    const worker = new ProbeWorker('liveness', { failureThreshold: 2, periodSeconds: 3 }, t0);
    expect(drive(worker, ['failure', 'success', 'failure', 'failure', 'success'])).toEqual([
      { at: 0, state: undefined },
      { at: 3, state: undefined },
      { at: 6, state: undefined },
      { at: 9, state: 'restart' },
    ]);
    expect(worker.state).toBe('restart');
    expect(worker.nextAttemptAt(true)).toBeUndefined();
  });

  it('defaults to a 10 s period and three failures', () => {
    const worker = new ProbeWorker('liveness', {}, t0);
    expect(drive(worker, ['failure', 'failure', 'failure'])).toEqual([
      { at: 0, state: undefined },
      { at: 10, state: undefined },
      { at: 20, state: 'restart' },
    ]);
  });

  it('waits initialDelaySeconds after the container started before the first attempt', () => {
    const worker = new ProbeWorker('readiness', { initialDelaySeconds: 15, periodSeconds: 10 }, t0);
    expect(worker.shouldProbe(s(0), true)).toBe(false);
    expect(worker.shouldProbe(s(14.9), true)).toBe(false);
    expect(worker.shouldProbe(s(15), true)).toBe(true);
    worker.record(s(15), 'success');
    expect(worker.shouldProbe(s(20), true)).toBe(false);
    expect(worker.nextAttemptAt(true)).toBe(s(25));
  });

  it('holds liveness and readiness until the container has started, and startup after', () => {
    const liveness = new ProbeWorker('liveness', {}, t0);
    const startup = new ProbeWorker('startup', { periodSeconds: 2, failureThreshold: 30 }, t0);
    expect(liveness.nextAttemptAt(false)).toBeUndefined();
    expect(liveness.shouldProbe(s(100), false)).toBe(false);
    expect(startup.nextAttemptAt(false)).toBe(t0);
    expect(drive(startup, ['failure', 'failure', 'success'], false).map((x) => x.state)).toEqual([
      undefined,
      undefined,
      'success',
    ]);
    expect(startup.nextAttemptAt(false)).toBeUndefined();
    expect(startup.nextAttemptAt(true)).toBeUndefined();
    // Once started, a held probe whose initial delay has passed is due at once.
    expect(liveness.nextAttemptAt(true)).toBe(t0);
  });

  it('asks for a restart when startup fails failureThreshold times', () => {
    const startup = new ProbeWorker('startup', { failureThreshold: 2, successThreshold: 5 }, t0);
    expect(drive(startup, ['failure', 'failure', 'failure'], false).map((x) => x.state)).toEqual([
      undefined,
      'restart',
    ]);
  });

  it('treats successThreshold as 1 for startup and liveness', () => {
    const worker = new ProbeWorker('startup', { successThreshold: 3 }, t0);
    expect(worker.record(t0, 'success')).toBe('success');
  });
});

describe('runProbe', () => {
  let server: http.Server;
  let port: number;
  const requests: http.IncomingHttpHeaders[] = [];
  const hanging: http.ServerResponse[] = [];
  const noExec: ProbeTarget['exec'] = () => Promise.reject(new Error('unexpected exec'));
  const target = (): ProbeTarget => ({ podIP: '127.0.0.1', containerId: 'c1', exec: noExec });
  const container = (): Container => ({ name: 'app', ports: [{ name: 'http', containerPort: port }] });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.headers);
      if (req.url === '/healthz') res.end('ok');
      else if (req.url === '/moved') res.writeHead(302, { Location: 'http://192.0.2.1/' }).end();
      else if (req.url === '/big') res.end('x'.repeat(1024 * 1024));
      else if (req.url === '/hang') hanging.push(res);
      else res.writeHead(500).end('broken');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('succeeds on a 2xx from the named port, sending upstream headers and the probe headers', async () => {
    const probe: Probe = {
      httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] },
    };
    expect(await runProbe(probe, target(), container())).toEqual({ result: 'success' });
    expect(requests.at(-1)).toMatchObject({
      'user-agent': 'kube-probe/1.32',
      accept: '*/*',
      'x-probe': 'yes',
    });
  });

  it('succeeds on a redirect without following it, and with a large body', async () => {
    expect(await runProbe({ httpGet: { path: '/moved', port } }, target(), container())).toEqual({
      result: 'success',
    });
    expect(await runProbe({ httpGet: { path: 'big', port } }, target(), container())).toEqual({
      result: 'success',
    });
  });

  it('fails on a 500 with the status code', async () => {
    expect(await runProbe({ httpGet: { path: '/boom', port: 'http' } }, target(), container())).toEqual({
      result: 'failure',
      message: 'HTTP probe failed with statuscode: 500',
    });
  });

  it('fails after timeoutSeconds when the server never answers', async () => {
    const started = Date.now();
    const outcome = await runProbe(
      { httpGet: { path: '/hang', port }, timeoutSeconds: 1 },
      target(),
      container(),
    );
    expect(outcome).toEqual({
      result: 'failure',
      message: `Get "http://127.0.0.1:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('fails a named port the container does not declare', async () => {
    expect(await runProbe({ httpGet: { port: 'metrics' } }, target(), container())).toEqual({
      result: 'failure',
      message: 'port metrics not found',
    });
  });

  it('connects over TCP to a listening port and fails on a closed one', async () => {
    const listener = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const open = (listener.address() as AddressInfo).port;
    expect(await runProbe({ tcpSocket: { port: open } }, target(), container())).toEqual({
      result: 'success',
    });
    await new Promise((resolve) => listener.close(resolve));
    expect(await runProbe({ tcpSocket: { port: open } }, target(), container())).toEqual({
      result: 'failure',
      message: `dial tcp 127.0.0.1:${open}: connect: connection refused`,
    });
    const http = await runProbe({ httpGet: { port: open, path: '/x' } }, target(), container());
    expect(http.message).toBe(
      `Get "http://127.0.0.1:${open}/x": dial tcp 127.0.0.1:${open}: connect: connection refused`,
    );
  });

  it('runs exec probes in the container, with static env expanded and exit code 0 as success', async () => {
    const calls: { id: string; command: string[]; timeoutMs: number }[] = [];
    const exec: ProbeTarget['exec'] = async (id, command, timeoutMs) => {
      calls.push({ id, command, timeoutMs });
      return command[1] === 'ok' ? { exitCode: 0, output: '' } : { exitCode: 1, output: 'not healthy\n' };
    };
    const withEnv = { name: 'app', env: [{ name: 'STATE', value: 'ok' }] };
    const probe: Probe = { exec: { command: ['check', '$(STATE)', '$$(STATE)'] }, timeoutSeconds: 3 };
    expect(await runProbe(probe, { ...target(), exec }, withEnv)).toEqual({ result: 'success' });
    expect(calls).toEqual([{ id: 'c1', command: ['check', 'ok', '$(STATE)'], timeoutMs: 3000 }]);
    expect(await runProbe({ exec: { command: ['check', 'bad'] } }, { ...target(), exec }, withEnv)).toEqual({
      result: 'failure',
      message: 'not healthy\n',
    });
  });

  it('fails an exec probe that times out', async () => {
    const exec: ProbeTarget['exec'] = () => Promise.reject(new ExecTimeoutError('timed out'));
    expect(await runProbe({ exec: { command: ['sleep', '9'] } }, { ...target(), exec }, container())).toEqual(
      {
        result: 'failure',
        message: 'command "sleep 9" timed out',
      },
    );
  });

  it('fails grpc probes as unsupported', async () => {
    expect(await runProbe({ grpc: { port: 9000 } }, target(), container())).toEqual({
      result: 'failure',
      message: 'grpc probes are not supported',
    });
  });
});

describe('startProbes', () => {
  const pod: Pick<Pod, 'metadata' | 'status'> = {
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    status: { podIP: '127.0.0.1' },
  };

  it('runs readiness only after startup succeeded, then reports ready', async () => {
    const order: string[] = [];
    const changes: [ProbeKind, ProbeState, string | undefined][] = [];
    let startupAttempts = 0;
    const runtime = {
      exec: async (_id: string, command: string[]) => {
        order.push(command[0] ?? '');
        if (command[0] === 'startup') return { exitCode: ++startupAttempts >= 2 ? 0 : 1, output: 'starting' };
        return { exitCode: 0, output: '' };
      },
    };
    const container: Container = {
      name: 'app',
      startupProbe: { exec: { command: ['startup'] }, periodSeconds: 1, failureThreshold: 5 },
      readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 60 },
    };
    const probes = startProbes({
      pod,
      container,
      containerId: 'c1',
      runtime,
      onChange: (kind, state, message) => changes.push([kind, state, message]),
    });
    try {
      await until('ready', async () => (changes.length >= 2 ? true : undefined), 10_000);
    } finally {
      probes.stop();
    }
    expect(order).toEqual(['startup', 'startup', 'ready']);
    expect(changes).toEqual([
      ['startup', 'success', undefined],
      ['readiness', 'success', undefined],
    ]);
  });

  it('asks for a restart with the upstream message after failing liveness attempts over HTTP', async () => {
    const server = http.createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const changes: [ProbeKind, ProbeState, string | undefined][] = [];
    const failures: string[] = [];
    const probes = startProbes({
      pod,
      container: {
        name: 'app',
        ports: [{ name: 'web', containerPort: port }],
        livenessProbe: { httpGet: { port: 'web', path: '/' }, periodSeconds: 1, failureThreshold: 2 },
      },
      containerId: 'c1',
      runtime: { exec: () => Promise.reject(new Error('unused')) },
      onChange: (kind, state, message) => changes.push([kind, state, message]),
      onResult: (kind, outcome) => failures.push(probeFailedMessage(kind, outcome.message)),
    });
    try {
      await until('restart', async () => (changes.length > 0 ? true : undefined), 10_000);
    } finally {
      probes.stop();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(changes).toEqual([
      ['liveness', 'restart', 'Container app failed liveness probe, will be restarted'],
    ]);
    expect(failures).toEqual([
      'Liveness probe failed: HTTP probe failed with statuscode: 503',
      'Liveness probe failed: HTTP probe failed with statuscode: 503',
    ]);
  });
});
