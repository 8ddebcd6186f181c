import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@k1s0/platform';
import { describe, expect, it } from 'vitest';
import { eventStoreConfigSchema, eventStoreDurations } from '../src/config.js';
import { eventStoreService } from '../src/service.js';

/** The packaged config.yaml plus `extra` YAML (appended sections). */
function load(extra: string) {
  const dir = mkdtempSync(join(tmpdir(), 'k1s0-evstore-config-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `app: { name: event-store }\nserver: { port: 0 }\ngrpc: { port: 0 }\ndatabase: {}\n${extra}`,
  );
  return loadConfig({ configDir: dir, schema: eventStoreConfigSchema, env: {} });
}

describe('event-store durations (issue 12: durations written as durations)', () => {
  it('the packaged config.yaml loads, with the documented defaults', () => {
    const config = loadConfig({
      configDir: eventStoreService.configDir,
      schema: eventStoreConfigSchema,
      env: {},
    });
    const durations = eventStoreDurations(config);
    expect(durations).toMatchObject({
      subscribePollIntervalMs: 1000,
      relayPollIntervalMs: 5000,
      relayFlushTimeoutMs: 5000,
    });
    expect(durations.renamed.used).toEqual([]);
  });

  it('reads "750ms" / "2s" / integer milliseconds', () => {
    const config = load(
      'event_store: { subscribe_poll_interval: 750ms }\nrelay: { poll_interval: 2s, flush_timeout: 300 }\n',
    );
    const durations = eventStoreDurations(config);
    expect(durations).toMatchObject({
      subscribePollIntervalMs: 750,
      relayPollIntervalMs: 2000,
      relayFlushTimeoutMs: 300,
    });
    expect(durations.renamed.used).toEqual([]);
  });

  it('still honours the old *_ms keys (they win) and reports each as deprecated', () => {
    const config = load(
      'event_store: { subscribe_poll_interval_ms: 250 }\nrelay: { poll_interval: 9s, poll_interval_ms: 400, flush_timeout_ms: 600 }\n',
    );
    const durations = eventStoreDurations(config);
    expect(durations).toMatchObject({
      subscribePollIntervalMs: 250,
      relayPollIntervalMs: 400,
      relayFlushTimeoutMs: 600,
    });
    expect(durations.renamed.used).toEqual([
      'event_store.subscribe_poll_interval_ms → event_store.subscribe_poll_interval',
      'relay.poll_interval_ms → relay.poll_interval',
      'relay.flush_timeout_ms → relay.flush_timeout',
    ]);
  });

  it('refuses a zero or malformed duration, naming the field', () => {
    expect(() => load('relay: { poll_interval: 0 }\n')).toThrow(ConfigError);
    expect(() => load('relay: { flush_timeout: five }\n')).toThrow(/relay\.flush_timeout/);
  });
});
