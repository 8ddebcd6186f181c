import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningService, startService } from '@k1s0/platform';
import { createTestDatabase, type TestDatabase, tokenFor } from '@k1s0/platform/testing';
import type { ConfigServerConfig } from '../../src/config.js';
import { configServerService } from '../../src/service.js';

export type ConfigServer = RunningService<ConfigServerConfig>;

/**
 * Starts the real app on free ports against `url`; extra env overrides (e.g. APP_ENV). `overlay`
 * is layered over the app's config.yaml (as config.test.yaml, APP_ENV=test), for settings no
 * environment variable reaches, e.g. the change feed's safety poll.
 */
export async function startConfigServer(
  url: string,
  env: Record<string, string> = {},
  overlay?: Record<string, unknown>,
): Promise<ConfigServer> {
  let definition = configServerService;
  let configDir: string | undefined;
  if (overlay !== undefined) {
    configDir = mkdtempSync(join(tmpdir(), 'config-server-test-'));
    copyFileSync(join(definition.configDir, 'config.yaml'), join(configDir, 'config.yaml'));
    writeFileSync(join(configDir, 'config.test.yaml'), JSON.stringify(overlay)); // JSON is YAML
    definition = { ...definition, configDir };
  }
  try {
    return await startService(definition, {
      ...process.env,
      DATABASE_URL: url,
      PORT: '0',
      GRPC_PORT: '0',
      LOG_LEVEL: 'silent',
      KAFKA_BROKERS: '',
      ...(configDir === undefined ? {} : { APP_ENV: 'test' }),
      ...env,
    });
  } finally {
    // The configuration is read once, at start.
    if (configDir !== undefined) rmSync(configDir, { recursive: true, force: true });
  }
}

/** One fresh database and one running app on it. */
export async function startWithDatabase(env?: Record<string, string>) {
  const testDb: TestDatabase = await createTestDatabase();
  const server = await startConfigServer(testDb.url, env);
  return {
    testDb,
    server,
    async stop() {
      await server.stop();
      await testDb.drop();
    },
  };
}

export const tokens = {
  admin: tokenFor('sys_admin'),
  operator: tokenFor('sys_operator'),
  auditor: tokenFor('sys_auditor'),
  none: tokenFor('none'),
};

export interface EntryBody {
  id: string;
  namespace: string;
  key: string;
  value: unknown;
  version: number;
  description: string;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface ErrorBody {
  error: { code: string; message: string; request_id: string; details: { field: string; message: string }[] };
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch against the app's REST port; `body` is JSON-encoded unless it is a string. */
export async function call<T = Record<string, unknown>>(
  server: ConfigServer,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`http://127.0.0.1:${server.restPort}${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
  };
}

/** Creates (version 0) or updates a key through REST as sys_operator. */
export async function put(server: ConfigServer, namespace: string, key: string, value: unknown, version = 0) {
  return call<EntryBody>(server, 'PUT', `/api/v1/config/${namespace}/${key}`, {
    token: tokens.operator,
    body: { value, version },
  });
}

/** Value of a Prometheus sample line `name{labels} value`, or undefined. */
export async function metricValue(
  server: ConfigServer,
  name: string,
  labels = '',
): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${server.restPort}/metrics`)).text();
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}
