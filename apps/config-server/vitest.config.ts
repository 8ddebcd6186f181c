import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/config-server',
    include: ['test/**/*.test.ts'],
    // For runs from this directory; under the root config it reuses the root's server.
    globalSetup: ['../../packages/platform/src/testing/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
