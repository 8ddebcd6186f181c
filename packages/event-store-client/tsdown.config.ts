import { defineConfig } from 'tsdown';

// The workspace-internal @k1s0/proto (generated code) and @k1s0/client-kit are bundled in, so the published
// package needs only public npm packages at run time (see README "Packaging").
export default defineConfig({
  entry: ['src/index.ts', 'src/postgres.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node22',
  dts: { tsc: { eager: true } },
  clean: true,
  tsconfig: 'tsconfig.build.json',
  deps: { alwaysBundle: ['@k1s0/proto', '@k1s0/client-kit'] },
  outExtensions: () => ({ js: '.js', dts: '.d.ts' }),
});
