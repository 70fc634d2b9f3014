import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { functionBundleOptions } from './bundling.js';
import { projectRoot } from './functions.js';

/** What a worker unpacks into /opt/lambernetes (the systemd unit runs `node /opt/lambernetes/agent.mjs`). */
export const agentBundleFiles = {
  agent: 'agent.mjs',
  bootstrap: 'bootstrap.sh',
  unit: 'lambernetes-agent.service',
} as const;

/**
 * Builds the worker's bundle into `outDir`: the agent (`agent/main.ts`) as one ESM file with its source
 * map, the bootstrap script and the systemd unit. dockerode's optional SSH transport (ssh2) has native
 * add-ons it loads only when present; they are left out (`.node` files load as empty), as the agent
 * talks to Docker over its Unix socket.
 */
export function buildAgentBundle(outDir: string): void {
  buildSync({
    entryPoints: [join(projectRoot, 'agent/main.ts')],
    outfile: join(outDir, agentBundleFiles.agent),
    ...functionBundleOptions,
    loader: { '.node': 'empty' },
  });
  copyFileSync(join(projectRoot, 'infra/worker/bootstrap.sh'), join(outDir, agentBundleFiles.bootstrap));
  copyFileSync(join(projectRoot, 'agent/lambernetes-agent.service'), join(outDir, agentBundleFiles.unit));
}
