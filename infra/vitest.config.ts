import { defineProject } from 'vitest/config';

// Checks of the production artefacts under infra/ (image tree, Helm chart, Kong, dashboards).
export default defineProject({
  test: {
    name: 'infra',
    include: ['test/**/*.test.ts'],
    // For runs from this directory; under the root config it reuses the root's server.
    globalSetup: ['../packages/platform/src/testing/global-setup.ts'],
    // Each case starts compiled services as processes; generous for a loaded 2-core machine.
    testTimeout: 180_000,
    // The image-tree test compiles the workspace and deploys two production folders first.
    hookTimeout: 600_000,
  },
});
