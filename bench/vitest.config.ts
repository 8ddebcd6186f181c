import { defineProject } from 'vitest/config';

// Unit tests of the harness's pure parts (parsing, verdicts); `pnpm bench` itself is the end-to-end run.
export default defineProject({
  test: {
    name: '@k1s0/bench',
    include: ['test/**/*.test.ts'],
  },
});
