import { defineConfig } from 'vitest/config';

// One vitest run for the whole tree; each package is a project with its own config.
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'bench/vitest.config.ts',
      'infra/vitest.config.ts',
    ],
    // One PostgreSQL for the whole run; projects inherit the root's provided URL.
    globalSetup: ['packages/platform/src/testing/global-setup.ts'],
  },
});
