import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/config-server',
    include: ['test/**/*.test.ts'],
  },
});
