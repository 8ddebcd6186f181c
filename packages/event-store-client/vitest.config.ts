import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/event-store-client',
    include: ['test/**/*.test.ts'],
    globalSetup: ['../../packages/platform/src/testing/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
