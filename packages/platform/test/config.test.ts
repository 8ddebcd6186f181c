import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
auth: { dev_secret: "0123456789abcdef0123" }
`;

describe('loadConfig', () => {
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
