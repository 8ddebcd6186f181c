import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@k1s0/eventstore-domain',
    include: ['test/**/*.test.ts'],
  },
});
