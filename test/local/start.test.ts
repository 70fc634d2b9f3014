import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';

/** The status code of `GET /` on host:port, or undefined if nothing answers (yet). */
function httpStatus(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** This host's first non-loopback IPv4 address (NodePorts answer on the node's addresses). */
function hostAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal && !a.address.startsWith('10.244.'));
  return found?.address ?? '127.0.0.1';
}

describe('npm start', () => {
  it('serves a cluster kubectl reaches, whose two worker nodes run a web server reachable through a NodePort, and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-start-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'shared/local/start.ts', '--in-memory', '--port', '0', '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const kubectl = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'kubectl',
          args,
          {
            env: {
              PATH: process.env.PATH ?? '',
              HOME: join(dataDir, 'home'),
              KUBECONFIG: join(dataDir, 'kubeconfig'),
            },
          },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // Read (so that a chatty child never blocks on a full pipe) and shown when startup fails.
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    let exitCode: number | null | undefined;
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        exitCode = code;
        resolve(code);
      }),
    );
    try {
      await until(
        'npm start to say it is ready (or exit)',
        async () => (output.includes('Press Ctrl-C') || exitCode !== undefined ? true : undefined),
        60_000,
      ).catch(() => undefined);
      expect(output, `npm start exited with ${exitCode}; its stderr:\n${errors}`).toContain(
        `export KUBECONFIG=${join(dataDir, 'kubeconfig')}`,
      );
      const ready = await kubectl(['get', '--raw', '/readyz']);
      expect(ready).toBe('ok');
      // Two worker nodes whose agents run containers through Podman (installed here and in CI).
      expect(output).toContain('Worker nodes worker-1, worker-2 run pods as Podman containers');
      const nodes = await kubectl(['get', 'nodes', '--no-headers']);
      expect(nodes).toMatch(/^worker-1\s+Ready\s/m);
      expect(nodes).toMatch(/^worker-2\s+Ready\s/m);

      // The quick start: a web server Deployment behind a NodePort Service, answering from the host.
      // (The Service from a pod, by ClusterIP and DNS, and much more: scenario.test.ts.)
      const image = 'localhost/busybox:local';
      await kubectl([
        'create',
        'deployment',
        'web',
        `--image=${image}`,
        '--replicas=2',
        '--',
        'httpd',
        '-f',
        '-p',
        '8080',
        '-h',
        '/www',
      ]);
      await kubectl(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--type=NodePort']);
      await kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s']);
      const nodePort = await kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
      expect(await until('the NodePort answers', () => httpStatus(hostAddress(), Number(nodePort)))).toBe(
        200,
      );
    } finally {
      child.kill('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    expect(code).toBe(0);
  });
});
