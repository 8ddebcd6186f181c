import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ConfigChange,
  type ConfigClient,
  createConfigClient,
  type InvalidValueEvent,
  type StatusEvent,
} from '../src/index.js';
import { put, type RestartableServer, restartableConfigServer, tokens, waitFor } from './support.js';

const NS = 'service.lkg.api';
const backoff = { baseMs: 50, maxMs: 400 };

describe('last-known-good snapshot', () => {
  let server: RestartableServer | undefined;
  const clients: ConfigClient[] = [];
  let cacheDir: string | undefined;
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server?.dispose();
    server = undefined;
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('starts from the cache file while the server is down, says so, and catches up after', async () => {
    server = await restartableConfigServer();
    const s = server;
    cacheDir = await mkdtemp(join(tmpdir(), 'k1s0-lkg-'));
    expect((await put(s.current!, NS, 'timeout_ms', 500)).status).toBe(201);
    expect((await put(s.current!, NS, 'mode', 'fast')).status).toBe(201);

    const first = await createConfigClient({
      baseUrl: s.baseUrl,
      grpcUrl: s.grpcUrl,
      token: tokens.auditor,
      services: ['lkg'],
      cacheDir,
      backoff,
    });
    clients.push(first);
    expect(first.getService('lkg')).toEqual({ [NS]: { timeout_ms: 500, mode: 'fast' } });
    expect((await put(s.current!, NS, 'timeout_ms', 750, 1)).status).toBe(200);
    await waitFor('the first client to see 750', () => first.get(NS, 'timeout_ms') === 750);
    await first.close();
    clients.pop();
    const files = await readdir(cacheDir);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.tmp'))).toHaveLength(0);

    // Changed while no client runs, then the server goes away.
    expect((await put(s.current!, NS, 'timeout_ms', 900, 2)).status).toBe(200);
    await s.stop();

    const statuses: StatusEvent[] = [];
    const changes: ConfigChange[] = [];
    const second = await createConfigClient({
      baseUrl: s.baseUrl,
      grpcUrl: s.grpcUrl,
      token: tokens.auditor,
      services: ['lkg'],
      cacheDir,
      backoff,
    });
    clients.push(second);
    second.onStatus((e) => statuses.push(e));
    second.onChange((c) => changes.push(c));
    expect(second.status).toBe('stale');
    expect(second.get(NS, 'timeout_ms')).toBe(750);
    expect(second.get(NS, 'mode')).toBe('fast');

    await s.start();
    await waitFor('the second client to catch up to 900', () => second.get(NS, 'timeout_ms') === 900, 15_000);
    expect(second.status).toBe('live');
    expect(statuses.map((e) => e.status)).toEqual(['live']);
    // Caught up from the change log: the missed change arrives with its actor, once.
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      key: 'timeout_ms',
      oldValue: 750,
      newValue: 900,
      actor: 'sys_operator@example.com',
    });
  });

  it('refuses to start without server and without cache', async () => {
    await expect(
      createConfigClient({
        baseUrl: 'http://127.0.0.1:9',
        grpcUrl: 'http://127.0.0.1:9',
        token: tokens.auditor,
        namespaces: [NS],
        backoff,
        startTimeoutMs: 500,
      }),
    ).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('typed reads report a value that fails its schema and keep the last good one', async () => {
    server = await restartableConfigServer();
    const s = server;
    expect((await put(s.current!, NS, 'limits', { max: 10 })).status).toBe(201);
    const client = await createConfigClient({
      baseUrl: s.baseUrl,
      grpcUrl: s.grpcUrl,
      token: tokens.auditor,
      namespaces: [NS],
      backoff,
    });
    clients.push(client);
    const Limits = z.object({ max: z.number().int().positive() });
    const invalid: InvalidValueEvent[] = [];
    client.onInvalid((e) => invalid.push(e));
    expect(client.get(NS, 'limits', Limits)).toEqual({ max: 10 });

    expect((await put(s.current!, NS, 'limits', { max: 'lots' }, 1)).status).toBe(200);
    await waitFor(
      'the invalid value to arrive',
      () => JSON.stringify(client.get(NS, 'limits')) === '{"max":"lots"}',
    );
    expect(client.get(NS, 'limits')).toEqual({ max: 'lots' });
    expect(client.get(NS, 'limits', Limits)).toEqual({ max: 10 });
    expect(client.get(NS, 'limits', Limits)).toEqual({ max: 10 });
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ namespace: NS, key: 'limits', version: 2, value: { max: 'lots' } });
    expect(invalid[0]?.issues[0]?.path).toEqual(['max']);

    expect((await put(s.current!, NS, 'limits', { max: 20 }, 2)).status).toBe(200);
    await waitFor('the typed value 20', () => client.get(NS, 'limits', Limits)?.max === 20);
  });
});
