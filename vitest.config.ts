import { defineConfig } from 'vitest/config';

/**
 * Two projects, run one after the other by `npm test`: the control plane's suites, many of them
 * timing-sensitive against the shared DynamoDB Local, and the node suites, which run real containers
 * through Podman and a whole `npm start`. On 2 cores Podman's CPU would otherwise starve the first.
 */
const nodeSuites = ['test/agent/**/*.test.ts', 'test/local/start.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'control-plane', include: ['test/**/*.test.ts'], exclude: nodeSuites },
      },
      { extends: true, test: { name: 'nodes', include: nodeSuites } },
    ],
  },
});
