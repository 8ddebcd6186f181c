import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_DEFAULT_SECRET } from '../src/auth/index.js';
import { ConfigError, loadConfig, platformConfigSchema } from '../src/config/index.js';

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'k1s0-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const BASE = `
app: { name: svc, environment: dev }
server: { port: 8080, shutdown_timeout: 10s }
grpc: { port: 50051 }
database: { max_connections: 5 }
`;

describe('loadConfig', () => {
  it('refuses an unknown key, naming it, at any depth and in any layer', () => {
    const dir = configDir({
      'config.yaml': `${BASE}observability: { log: { levl: debug } }\nserver_x: 1\n`,
      'config.dev.yaml': 'server: { shutdown_timout: 5s }\n',
    });
    let error: unknown;
    try {
      loadConfig({ configDir: dir, schema: platformConfigSchema, env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).fields.sort()).toEqual(
      ['observability.log.levl', 'server.shutdown_timout', 'server_x'].sort(),
    );
    expect((error as ConfigError).message).toContain('server.shutdown_timout: unknown setting');
    // Design 000's app.tier is a known setting, not an unknown one.
    const tiered = configDir({
      'config.yaml': BASE.replace('environment: dev', 'environment: dev, tier: system'),
    });
    expect(loadConfig({ configDir: tiered, schema: platformConfigSchema, env: {} }).app.tier).toBe('system');
  });

  it('layers config.yaml, config.<APP_ENV>.yaml and environment variables', () => {
    const dir = configDir({
      'config.yaml': BASE,
      'config.staging.yaml': 'server: { port: 9000 }\ndatabase: { max_connections: 7 }\n',
    });
    const config = loadConfig({
      configDir: dir,
      schema: platformConfigSchema,
      env: { APP_ENV: 'staging', GRPC_PORT: '6000', KAFKA_BROKERS: 'a:9092, b:9092', LOG_LEVEL: 'warn' },
    });
    expect(config.app.environment).toBe('staging');
    expect(config.server.port).toBe(9000);
    expect(config.server.shutdown_timeout).toBe(10_000);
    expect(config.database.max_connections).toBe(7);
    expect(config.grpc.port).toBe(6000);
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9092']);
    expect(config.observability.log.level).toBe('warn');
    // Outside dev/test nothing auth-related is set by default, and the services bind every interface.
    expect(config.auth).toEqual({});
    expect(config.server.host).toBe('0.0.0.0');
  });

  it('defaults to loopback and the public dev secret in dev and test only', () => {
    const dir = configDir({ 'config.yaml': BASE });
    for (const appEnv of ['dev', 'test']) {
      const config = loadConfig({ configDir: dir, schema: platformConfigSchema, env: { APP_ENV: appEnv } });
      expect(config.server.host).toBe('127.0.0.1');
      expect(config.auth.dev_secret).toBe(DEV_DEFAULT_SECRET);
    }
    // No APP_ENV and none in config.yaml: dev.
    const unnamed = configDir({ 'config.yaml': BASE.replace('environment: dev', 'version: 1.0.0') });
    const config = loadConfig({ configDir: unnamed, schema: platformConfigSchema, env: {} });
    expect(config.app.environment).toBe('dev');
    expect(config.server.host).toBe('127.0.0.1');
    // Explicit settings win in dev as anywhere.
    const explicit = loadConfig({
      configDir: dir,
      schema: platformConfigSchema,
      env: { AUTH_DEV_SECRET: 'mine', AUTH_CLIENT_ID: 'svc', AUTH_ALLOWED_AZP: 'web, cli' },
    });
    expect(explicit.auth).toMatchObject({
      dev_secret: 'mine',
      client_id: 'svc',
      allowed_azp: ['web', 'cli'],
    });
    // HOST overrides the loopback default (docker compose runs dev inside a container).
    const published = loadConfig({ configDir: dir, schema: platformConfigSchema, env: { HOST: '0.0.0.0' } });
    expect(published.app.environment).toBe('dev');
    expect(published.server.host).toBe('0.0.0.0');
    const configured = configDir({
      'config.yaml': BASE.replace('server: { port: 8080', 'server: { host: 0.0.0.0, port: 8080'),
    });
    expect(loadConfig({ configDir: configured, schema: platformConfigSchema, env: {} }).server.host).toBe(
      '0.0.0.0',
    );
  });

  it('names the file when it is not valid YAML', () => {
    const dir = configDir({ 'config.yaml': BASE, 'config.test.yaml': 'server: { port: [8080\n' });
    let thrown: unknown;
    try {
      loadConfig({ configDir: dir, schema: platformConfigSchema, env: { APP_ENV: 'test' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain('config.test.yaml');
  });

  it('names the bad field when a value is invalid', () => {
    const dir = configDir({ 'config.yaml': BASE });
    let thrown: unknown;
    try {
      loadConfig({ configDir: dir, schema: platformConfigSchema, env: { PORT: 'eighty' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).fields).toEqual(['server.port']);
    expect((thrown as ConfigError).message).toMatch(/server\.port/);
  });

  it('rejects an environment name that cannot name a config file', () => {
    const dir = configDir({ 'config.yaml': BASE });
    expect(() =>
      loadConfig({ configDir: dir, schema: platformConfigSchema, env: { APP_ENV: 'Moon Base' } }),
    ).toThrow(/app\.environment/);
  });
});
