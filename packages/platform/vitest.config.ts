import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/platform',
    include: ['test/**/*.test.ts'],
  },
});
