import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm start', () => {
  it('serves a cluster with two worker nodes kubectl reaches through the written kubeconfig, and stops cleanly on SIGTERM', async () => {
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
    } finally {
      child.kill('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    expect(code).toBe(0);
  });
});
