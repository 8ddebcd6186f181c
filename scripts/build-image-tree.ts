/**
 * Builds the file tree of a service's runtime image into a folder: exactly what the runtime stage
 * of infra/docker/Dockerfile copies. The tree is the service's production folder: its compiled
 * dist/, config/ and drizzle/ migrations, and node_modules with production dependencies only (no
 * tsx, no TypeScript sources, no dev dependencies), every workspace package switched to its
 * compiled dist/ through its publishConfig (what `pnpm publish` would do).
 *
 *   tsx scripts/build-image-tree.ts <config-server|event-store> <outDir> [--skip-build]
 *
 * Then `node <imageNodeArgs()> dist/main.js` from <outDir> starts the service, as the image does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICES = ['config-server', 'event-store'] as const;
export type ServiceName = (typeof SERVICES)[number];

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

interface Manifest {
  name: string;
  exports?: unknown;
  publishConfig?: Record<string, unknown>;
  scripts?: unknown;
  devDependencies?: unknown;
  [key: string]: unknown;
}

function run(command: string, args: readonly string[]): void {
  execFileSync(command, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Compiles every package and app (tsc project references; incremental, so a no-op when fresh). */
export function buildWorkspace(): void {
  run('pnpm', ['exec', 'tsc', '-b', 'tsconfig.build.json']);
}

/**
 * Rewrites a workspace package's manifest the way publishing would: publishConfig fields replace
 * the source-pointing ones, and scripts/devDependencies go. The file is unlinked first because the
 * deploy may hard-link it to the workspace's own package.json.
 */
function applyPublishConfig(packageDir: string): void {
  const file = join(packageDir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const { publishConfig, scripts: _scripts, devDependencies: _dev, ...rest } = manifest;
  const published: Manifest = { ...rest, ...publishConfig };
  rmSync(file);
  writeFileSync(file, `${JSON.stringify(published, null, 2)}\n`);
  // Build bookkeeping and the test kit (it imports vitest, a dev dependency) are not run in production.
  rmSync(join(packageDir, 'dist', '.tsbuildinfo'), { force: true });
  rmSync(join(packageDir, 'dist', 'testing'), { recursive: true, force: true });
}

/** Every @k1s0/* package copied into the tree's virtual store. */
function workspacePackagesIn(outDir: string): string[] {
  const store = join(outDir, 'node_modules', '.pnpm');
  if (!existsSync(store)) return [];
  const dirs: string[] = [];
  for (const entry of readdirSync(store)) {
    if (!entry.startsWith('@k1s0+')) continue;
    const scope = join(store, entry, 'node_modules', '@k1s0');
    for (const name of readdirSync(scope)) dirs.push(join(scope, name));
  }
  return dirs;
}

export function buildImageTree(
  service: ServiceName,
  outDir: string,
  options: { build?: boolean } = {},
): void {
  if (options.build !== false) buildWorkspace();
  const target = resolve(outDir);
  rmSync(target, { recursive: true, force: true });
  // Injected workspace packages are copied (their `files` only) rather than symlinked, so the
  // folder stands alone; the flag is given here so the workspace's own install stays as it is.
  run('pnpm', [
    '--config.inject-workspace-packages=true',
    'deploy',
    '--filter',
    `@k1s0/${service}`,
    '--prod',
    '--config.confirm-modules-purge=false',
    target,
  ]);
  applyPublishConfig(target);
  for (const dir of workspacePackagesIn(target)) applyPublishConfig(dir);
  rmSync(join(target, 'pnpm-lock.yaml'), { force: true });
  if (!existsSync(join(target, 'dist', 'main.js'))) throw new Error(`${target}/dist/main.js is missing`);
}

/**
 * The Node flags the image starts the service with: the arguments between `node` and
 * `dist/main.js` in the Dockerfile's exec-form CMD. The Dockerfile is the one place they are
 * written; the bench's compiled run and the image-tree test read them from here, and
 * infra/test/helm-chart.test.ts checks that the chart's container args are the same.
 */
export function imageNodeArgs(dockerfile = join(repoRoot, 'infra', 'docker', 'Dockerfile')): string[] {
  const line = readFileSync(dockerfile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CMD '));
  const cmd: unknown = line ? JSON.parse(line.slice(4)) : undefined;
  if (
    !Array.isArray(cmd) ||
    !cmd.every((arg) => typeof arg === 'string') ||
    cmd[0] !== 'node' ||
    cmd.at(-1) !== 'dist/main.js'
  ) {
    throw new Error(
      `${dockerfile}: expected CMD ["node", <flags>…, "dist/main.js"], got ${line ?? 'no CMD'}`,
    );
  }
  return cmd.slice(1, -1);
}

function isService(name: string | undefined): name is ServiceName {
  return SERVICES.includes(name as ServiceName);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [service, outDir, flag] = process.argv.slice(2);
  if (!isService(service) || !outDir || (flag !== undefined && flag !== '--skip-build')) {
    process.stderr.write(`usage: build-image-tree <${SERVICES.join('|')}> <outDir> [--skip-build]\n`);
    process.exit(2);
  }
  buildImageTree(service, outDir, { build: flag !== '--skip-build' });
  process.stdout.write(`${service} image tree in ${resolve(outDir)}\n`);
}
