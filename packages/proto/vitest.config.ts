import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/proto',
    include: ['test/**/*.test.ts'],
  },
});
