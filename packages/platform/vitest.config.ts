import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/platform',
    include: ['test/**/*.test.ts'],
    // For runs from this directory; under the root config it reuses the root's server.
    globalSetup: ['src/testing/global-setup.ts'],
  },
});
