import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/client-kit',
    include: ['test/**/*.test.ts'],
  },
});
