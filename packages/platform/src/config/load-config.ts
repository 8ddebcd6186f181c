import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { DEV_DEFAULT_SECRET } from '../auth/dev-token.js';
import { DEFAULT_APP_ENV, isDevEnvironment } from './platform-config.js';

/** An environment variable that overrides a config path (`list`: comma-separated into an array). */
export interface EnvOverride {
  readonly env: string;
  readonly path: readonly string[];
  readonly list?: boolean;
}

/** Environment variables that override the YAML files (SPEC §2), mapped to their config path. */
const ENV_OVERRIDES: ReadonlyArray<EnvOverride> = [
  { env: 'APP_ENV', path: ['app', 'environment'] },
  { env: 'DATABASE_URL', path: ['database', 'url'] },
  { env: 'DATABASE_MIGRATE_ON_START', path: ['database', 'migrate_on_start'] },
  { env: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], list: true },
  { env: 'AUTH_JWKS_URL', path: ['auth', 'jwks_url'] },
  { env: 'AUTH_ISSUER', path: ['auth', 'issuer'] },
  { env: 'AUTH_AUDIENCE', path: ['auth', 'audience'] },
  { env: 'AUTH_CLIENT_ID', path: ['auth', 'client_id'] },
  { env: 'AUTH_ALLOWED_AZP', path: ['auth', 'allowed_azp'], list: true },
  { env: 'AUTH_DEV_SECRET', path: ['auth', 'dev_secret'] },
  // Containers run dev/test images too (docker compose): loopback there would hide the published ports.
  { env: 'HOST', path: ['server', 'host'] },
  { env: 'PORT', path: ['server', 'port'] },
  { env: 'GRPC_PORT', path: ['grpc', 'port'] },
  { env: 'LOG_LEVEL', path: ['observability', 'log', 'level'] },
  // The OpenTelemetry standard variable: setting it turns OTLP trace export on (SPEC §7).
  { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', path: ['observability', 'tracing', 'otlp_endpoint'] },
];

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly fields: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** One bad setting: its config path (e.g. `auth.audience`) and what is wrong with it. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/** The one shape of a configuration error: every issue on its own line, each naming its field. */
export function configError(issues: readonly ConfigIssue[]): ConfigError {
  const lines = issues.map((issue) => `  ${issue.field || '(root)'}: ${issue.message}`);
  return new ConfigError(
    `invalid configuration:\n${lines.join('\n')}`,
    issues.map((issue) => issue.field),
  );
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Tree, overlay: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    const current = out[k];
    out[k] = isTree(current) && isTree(v) ? deepMerge(current, v) : v;
  }
  return out;
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (!isTree(next)) node[segment] = {};
    node = node[segment] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function readYaml(file: string): Tree {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${file}: ${(error as Error).message}`, [file]);
  }
  if (parsed == null) return {};
  if (!isTree(parsed)) throw new ConfigError(`invalid configuration: ${file} is not a mapping`, [file]);
  return parsed;
}

/**
 * Defaults that depend on APP_ENV, layered under config.yaml. Only dev and test listen on
 * loopback and get the public development secret; anywhere else nothing auth-related is set
 * unless the operator sets it, so a dev secret there is always an explicit (refused) choice.
 */
function environmentDefaults(appEnv: string): Tree {
  if (!isDevEnvironment(appEnv)) return {};
  return { server: { host: '127.0.0.1' }, auth: { dev_secret: DEV_DEFAULT_SECRET } };
}

/** The object schema under defaults, optionals and nullables, if there is one. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = schema.def as { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> };
  if (def.type === 'object') return def.shape;
  if (def.innerType !== undefined) return objectShape(def.innerType);
  return undefined;
}

/**
 * Paths of settings the schema does not know. zod strips them silently, so a misspelt or
 * retired key (`shutdown_timout`, `app.teir`) would otherwise be ignored without a word.
 */
function unknownKeys(schema: z.ZodType, tree: unknown, path: string[]): string[] {
  const shape = objectShape(schema);
  if (shape === undefined || !isTree(tree)) return [];
  return Object.entries(tree).flatMap(([key, value]) => {
    const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (child === undefined) return [[...path, key].join('.')];
    return unknownKeys(child, value, [...path, key]);
  });
}

export interface LoadConfigOptions<S extends z.ZodType> {
  /** Folder holding config.yaml and config.<APP_ENV>.yaml (the one packaged with the service). */
  configDir: string;
  schema: S;
  env?: NodeJS.ProcessEnv;
  /** An app's own variables (e.g. the config server's CONFIG_KEYRING), applied like the platform's. */
  envOverrides?: ReadonlyArray<EnvOverride>;
  /** Command-line arguments; `--config <dir|file>` replaces the packaged folder. */
  argv?: readonly string[];
}

/** The value of `--config <path>` or `--config=<path>` in argv, if any. */
function configFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value === '') {
        throw new ConfigError('invalid configuration: --config needs a folder or a config.yaml path', [
          '--config',
        ]);
      }
      return value;
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * Where config.yaml is read from: `--config` (a folder, or a file used as config.yaml with its
 * config.<APP_ENV>.yaml looked up beside it), else CONFIG_DIR, else the packaged folder. A mounted
 * ConfigMap (e.g. CONFIG_DIR=/etc/k1s0) thereby replaces the packaged file; an explicitly named
 * place without a config file is an error rather than a silent fall-back to defaults.
 */
export function resolveConfigFile(options: {
  configDir: string;
  env: NodeJS.ProcessEnv;
  argv?: readonly string[];
}): { dir: string; file: string } {
  const flag = configFlag(options.argv ?? []);
  const named = flag ?? (options.env.CONFIG_DIR || undefined);
  if (named === undefined) return { dir: options.configDir, file: join(options.configDir, 'config.yaml') };
  const source = flag === undefined ? 'CONFIG_DIR' : '--config';
  const path = resolve(named);
  const isFile = existsSync(path) && statSync(path).isFile();
  const file = isFile ? path : join(path, 'config.yaml');
  if (!existsSync(file)) {
    throw new ConfigError(`invalid configuration: ${source}: ${file} does not exist`, [source]);
  }
  return { dir: dirname(file), file };
}

/**
 * config.yaml (see resolveConfigFile for where it is), then config.<APP_ENV>.yaml over it, then
 * environment variables over both; the result is validated by `schema`. A bad value or an unknown
 * key throws a ConfigError naming the field.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  const env = options.env ?? process.env;
  const { dir, file } = resolveConfigFile({ configDir: options.configDir, env, argv: options.argv });
  let tree = readYaml(file);
  const named = env.APP_ENV || (isTree(tree.app) ? tree.app.environment : undefined);
  const appEnv = typeof named === 'string' && named !== '' ? named : DEFAULT_APP_ENV;
  tree = deepMerge(
    environmentDefaults(appEnv),
    deepMerge(tree, readYaml(join(dir, `config.${appEnv}.yaml`))),
  );
  for (const { env: name, path, list } of [...ENV_OVERRIDES, ...(options.envOverrides ?? [])]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(
      tree,
      path,
      list
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw,
    );
  }
  const unknown = unknownKeys(options.schema, tree, []);
  if (unknown.length > 0) {
    throw configError(unknown.map((field) => ({ field, message: 'unknown setting' })));
  }
  const result = options.schema.safeParse(tree);
  if (!result.success) {
    throw configError(
      result.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
    );
  }
  return result.data;
}
