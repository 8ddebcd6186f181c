import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/event-store',
    include: ['test/**/*.test.ts'],
  },
});
