import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/k1s0ctl',
    include: ['test/**/*.test.ts'],
    globalSetup: ['../../packages/platform/src/testing/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
