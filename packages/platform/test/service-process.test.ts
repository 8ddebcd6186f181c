import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runServiceProcessToExit } from '../src/testing/index.js';

// Nothing listens here: if a check below failed to stop start-up, connecting fails instead
// (exit 1 too, but without the message the tests look for) and no embedded PostgreSQL starts.
const UNREACHABLE_DATABASE = 'postgres://k1s0:k1s0@127.0.0.1:9/none';
const JWKS_URL = 'http://127.0.0.1:9/realms/k1s0/protocol/openid-connect/certs';

/** The environment of a service process, without whatever the test runner has set. */
const baseEnv = {
  DATABASE_URL: UNREACHABLE_DATABASE,
  KAFKA_BROKERS: undefined,
  AUTH_JWKS_URL: undefined,
  AUTH_ISSUER: undefined,
  AUTH_AUDIENCE: undefined,
  AUTH_CLIENT_ID: undefined,
  AUTH_ALLOWED_AZP: undefined,
  AUTH_DEV_SECRET: undefined,
  PORT: '0',
  GRPC_PORT: '0',
  LOG_LEVEL: 'silent',
};

describe('runServiceMain as a real process: refused configuration exits 1 naming the setting', () => {
  it('config-server with APP_ENV=staging and no AUTH_AUDIENCE', async () => {
    const result = await runServiceProcessToExit({
      entry: 'apps/config-server/src/main.ts',
      env: { ...baseEnv, APP_ENV: 'staging', AUTH_JWKS_URL: JWKS_URL },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('auth.audience');
    expect(result.stderr).toContain('AUTH_AUDIENCE is required');
    expect(result.stderr).not.toContain('AUTH_DEV_SECRET');
  }, 60_000);

  it('event-store with APP_ENV=staging and AUTH_DEV_SECRET set', async () => {
    const result = await runServiceProcessToExit({
      entry: 'apps/event-store/src/main.ts',
      env: {
        ...baseEnv,
        APP_ENV: 'staging',
        AUTH_JWKS_URL: JWKS_URL,
        AUTH_AUDIENCE: 'event-store',
        AUTH_DEV_SECRET: 'k1s0-dev-secret-change-me',
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('auth.dev_secret');
    expect(result.stderr).toContain('AUTH_DEV_SECRET is set');
  }, 60_000);

  it('a bad value in the config file', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'k1s0-service-process-'));
    writeFileSync(
      join(configDir, 'config.yaml'),
      'app: { name: fixture, environment: test }\nserver: { port: 0, shutdown_timeout: ten seconds }\ngrpc: { port: 0 }\ndatabase: {}\n',
    );
    const result = await runServiceProcessToExit({
      entry: fileURLToPath(new URL('./fixtures/service-main.ts', import.meta.url)),
      args: [configDir],
      env: { ...baseEnv, APP_ENV: undefined, PORT: undefined, GRPC_PORT: undefined },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/invalid configuration:\n\s+server\.shutdown_timeout: /);
  }, 60_000);
});

describe('runServiceMain as a real process: a renamed setting still applies and is reported', () => {
  it('database.connect_timeout_seconds logs a warning naming database.connect_timeout', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'k1s0-service-process-'));
    writeFileSync(
      join(configDir, 'config.yaml'),
      'app: { name: fixture, environment: test }\nserver: { port: 0 }\ngrpc: { port: 0 }\ndatabase: { connect_timeout_seconds: 1 }\n',
    );
    const result = await runServiceProcessToExit({
      entry: fileURLToPath(new URL('./fixtures/service-main.ts', import.meta.url)),
      args: [configDir],
      env: { ...baseEnv, APP_ENV: undefined, PORT: undefined, GRPC_PORT: undefined, LOG_LEVEL: 'warn' },
    });
    // Nothing listens at the database address, so start-up ends there (exit 1) after the warning.
    expect(result.code).toBe(1);
    const warning = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level?: number; setting?: string; msg?: string })
      .find((entry) => entry.setting !== undefined);
    expect(warning).toMatchObject({
      level: 40,
      setting: 'database.connect_timeout_seconds → database.connect_timeout',
    });
    expect(warning?.msg).toContain('deprecated setting');
  }, 60_000);
});
