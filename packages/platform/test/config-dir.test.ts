import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, platformConfigSchema } from '../src/config/index.js';

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'k1s0-config-dir-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const config = (name: string, extra = '') =>
  `app: { name: ${name}, environment: dev }\nserver: { port: 8080 }\ngrpc: { port: 50051 }\ndatabase: {}\n${extra}`;

describe('loadConfig: where config.yaml comes from (a mounted ConfigMap)', () => {
  const packaged = configDir({ 'config.yaml': config('packaged') });

  it('reads the packaged folder when nothing names another', () => {
    expect(loadConfig({ configDir: packaged, schema: platformConfigSchema, env: {} }).app.name).toBe(
      'packaged',
    );
  });

  it('CONFIG_DIR replaces the packaged folder, with its own config.<APP_ENV>.yaml overlay', () => {
    const mounted = configDir({
      'config.yaml': config('mounted'),
      'config.prod.yaml': 'server: { port: 9000 }\n',
    });
    const loaded = loadConfig({
      configDir: packaged,
      schema: platformConfigSchema,
      env: { CONFIG_DIR: mounted, APP_ENV: 'prod' },
    });
    expect(loaded.app.name).toBe('mounted');
    expect(loaded.server.port).toBe(9000);
  });

  it('--config names a folder or a file and wins over CONFIG_DIR', () => {
    const other = configDir({ 'config.yaml': config('env-named') });
    const flagged = configDir({ 'service.yaml': config('flag-file'), 'config.yaml': config('flag-dir') });
    const load = (argv: string[]) =>
      loadConfig({ configDir: packaged, schema: platformConfigSchema, env: { CONFIG_DIR: other }, argv }).app
        .name;
    expect(load(['--config', join(flagged, 'service.yaml')])).toBe('flag-file');
    expect(load([`--config=${flagged}`])).toBe('flag-dir');
    expect(load([])).toBe('env-named');
  });

  it('a named place without config.yaml is an error naming the setting, not a fall-back to defaults', () => {
    const empty = configDir({});
    const attempt = () =>
      loadConfig({ configDir: packaged, schema: platformConfigSchema, env: { CONFIG_DIR: empty } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/CONFIG_DIR: .*config\.yaml does not exist/);
    expect(() =>
      loadConfig({ configDir: packaged, schema: platformConfigSchema, env: {}, argv: ['--config'] }),
    ).toThrow(/--config needs a folder/);
  });

  it('DATABASE_MIGRATE_ON_START turns start-up migration off; default on', () => {
    const load = (env: NodeJS.ProcessEnv) =>
      loadConfig({ configDir: packaged, schema: platformConfigSchema, env }).database.migrate_on_start;
    expect(load({})).toBe(true);
    expect(load({ DATABASE_MIGRATE_ON_START: 'false' })).toBe(false);
    expect(load({ DATABASE_MIGRATE_ON_START: 'true' })).toBe(true);
    expect(() => load({ DATABASE_MIGRATE_ON_START: 'no' })).toThrow(/database\.migrate_on_start/);
  });
});
