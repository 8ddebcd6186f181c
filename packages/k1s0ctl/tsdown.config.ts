import { defineConfig } from 'tsdown';

// The CLI depends on the two published client packages (not bundled: one copy of each), so it
// runs anywhere they are installed.
export default defineConfig({
  entry: ['src/cli.ts', 'src/main.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node22',
  dts: { tsc: { eager: true } },
  clean: true,
  tsconfig: 'tsconfig.build.json',
  outExtensions: () => ({ js: '.js', dts: '.d.ts' }),
});
