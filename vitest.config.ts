import { defineConfig } from 'vitest/config';

/**
 * Three projects, run one after the other by `npm test`:
 * - `control-plane`: the control plane's suites, many of them timing-sensitive against the shared
 *   DynamoDB Local;
 * - `nodes`: the agent's suites, which run real containers through Podman (on 2 cores Podman's CPU
 *   would otherwise starve the first project);
 * - `cluster`: whole clusters with worker nodes (`npm start`, the end-to-end scenario). They share
 *   host-wide things (the bridges on 10.244.<i>.0/24, the proxy's iptables chains, DNS on port 53), so
 *   their files run one at a time.
 */
const nodeSuites = ['test/agent/**/*.test.ts'];
const clusterSuites = ['test/local/start.test.ts', 'test/local/scenario.test.ts'];
/** Per project, not at the root: a root globalSetup runs once more, beside each project's. */
const globalSetup = ['test/support/global-setup.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'control-plane',
          globalSetup,
          include: ['test/**/*.test.ts'],
          exclude: [...nodeSuites, ...clusterSuites],
        },
      },
      { extends: true, test: { name: 'nodes', globalSetup, include: nodeSuites } },
      {
        extends: true,
        test: { name: 'cluster', globalSetup, include: clusterSuites, fileParallelism: false },
      },
    ],
  },
});
