import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** Environment variables that override the YAML files (SPEC §2), mapped to their config path. */
const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string[]; list?: boolean }> = [
  { env: 'APP_ENV', path: ['app', 'environment'] },
  { env: 'DATABASE_URL', path: ['database', 'url'] },
  { env: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], list: true },
  { env: 'AUTH_JWKS_URL', path: ['auth', 'jwks_url'] },
  { env: 'AUTH_ISSUER', path: ['auth', 'issuer'] },
  { env: 'AUTH_AUDIENCE', path: ['auth', 'audience'] },
  { env: 'AUTH_DEV_SECRET', path: ['auth', 'dev_secret'] },
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

function setPath(tree: Tree, path: string[], value: unknown): void {
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
  const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (parsed == null) return {};
  if (!isTree(parsed)) throw new ConfigError(`invalid configuration: ${file} is not a mapping`, [file]);
  return parsed;
}

export interface LoadConfigOptions<S extends z.ZodType> {
  /** Folder holding config.yaml and config.<APP_ENV>.yaml. */
  configDir: string;
  schema: S;
  env?: NodeJS.ProcessEnv;
}

/**
 * config.yaml, then config.<APP_ENV>.yaml over it, then environment variables over both; the
 * result is validated by `schema`. A bad value throws a ConfigError naming the field.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  const env = options.env ?? process.env;
  let tree = readYaml(join(options.configDir, 'config.yaml'));
  const appEnv = env.APP_ENV ?? (isTree(tree.app) ? tree.app.environment : undefined);
  if (typeof appEnv === 'string' && appEnv !== '') {
    tree = deepMerge(tree, readYaml(join(options.configDir, `config.${appEnv}.yaml`)));
  }
  for (const { env: name, path, list } of ENV_OVERRIDES) {
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
  const result = options.schema.safeParse(tree);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => issue.path.join('.'));
    const lines = result.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`, fields);
  }
  return result.data;
}
