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
  it('serves a cluster kubectl reaches, whose two worker nodes run a web server reachable through a Service, and stops cleanly on SIGTERM', async () => {
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
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      while (!output.includes('Press Ctrl-C') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain(`export KUBECONFIG=${join(dataDir, 'kubeconfig')}`);
      const ready = await kubectl(['get', '--raw', '/readyz']);
      expect(ready).toBe('ok');
      // Two worker nodes whose agents run containers through Podman (installed here and in CI).
      expect(output).toContain('Worker nodes worker-1, worker-2 run pods as Podman containers');
      const nodes = await kubectl(['get', 'nodes', '--no-headers']);
      expect(nodes).toMatch(/^worker-1\s+Ready\s/m);
      expect(nodes).toMatch(/^worker-2\s+Ready\s/m);

      // The quick start: a web server Deployment behind a Service, reached from the host through the
      // ClusterIP and the NodePort (the proxy's iptables rules), and from a pod by its DNS name.
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
      const clusterIP = await kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
      const nodePort = await kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']);
      expect(await until('the ClusterIP answers', () => httpStatus(clusterIP, 80))).toBe(200);
      expect(await until('the NodePort answers', () => httpStatus(hostAddress(), Number(nodePort)))).toBe(
        200,
      );
      const fetchByName = (name: string) =>
        `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${name} 80 | grep -q '^HTTP/1.[01] 200'`;
      await kubectl([
        'run',
        'client',
        `--image=${image}`,
        '--restart=Never',
        '--',
        'sh',
        '-c',
        `${fetchByName('web')} && ${fetchByName('web.default.svc.cluster.local')}`,
      ]);
      const phase = await until('the client pod finishes', async () => {
        const current = await kubectl(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}']);
        return current === 'Succeeded' || current === 'Failed' ? current : undefined;
      });
      expect(phase).toBe('Succeeded');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    expect(code).toBe(0);
  });
});
