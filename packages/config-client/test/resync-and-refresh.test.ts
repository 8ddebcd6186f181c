import { DEV_DEFAULT_SECRET, devTokenClaims, signDevToken } from '@k1s0/platform';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresChangeLogRepository } from '../../../apps/config-server/src/persistence/postgres-change-log-repository.js';
import { startConfigServer } from '../../../apps/config-server/test/support/service.js';
import { type ConfigChange, type ConfigClient, createConfigClient } from '../src/index.js';
import { put, type RestartableServer, restartableConfigServer, tokens, waitFor } from './support.js';

const NS = 'system.clientresync.db';
const backoff = { baseMs: 50, maxMs: 400 };

describe('config client: history gone and tokens expiring while it was away', () => {
  let server: RestartableServer | undefined;
  let client: ConfigClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.dispose();
    client = undefined;
    server = undefined;
  });

  it('refetches the snapshot when the server no longer keeps the history after its revision', async () => {
    server = await restartableConfigServer();
    const s = server;
    expect((await put(s.current!, NS, 'pool', 1)).status).toBe(201);
    const errors: Error[] = [];
    client = await createConfigClient({
      baseUrl: s.baseUrl,
      grpcUrl: s.grpcUrl,
      token: tokens.auditor,
      namespaces: [NS],
      backoff,
      onError: (error) => errors.push(error),
    });
    expect((await put(s.current!, NS, 'pool', 2, 1)).status).toBe(200);
    await waitFor('the client to apply version 2 with its revision', () => client?.revision !== undefined);
    const seen: ConfigChange[] = [];
    client.onChange((change) => seen.push(change));

    // While the client's server is down, another instance writes and the history is pruned past
    // the client's revision: its resume must fail with FAILED_PRECONDITION, not replay a gap.
    await s.stop();
    await waitFor('the client to notice the outage', () => client?.status === 'reconnecting');
    const other = await startConfigServer(s.databaseUrl, { APP_ENV: 'test' });
    try {
      expect((await put(other, NS, 'pool', 3, 2)).status).toBe(200);
      expect((await put(other, NS, 'added', 'yes')).status).toBe(201);
      const pruned = await new PostgresChangeLogRepository(other.database).prune(
        new Date(Date.now() + 60_000),
      );
      expect(pruned).toBeGreaterThan(0);
    } finally {
      await other.stop();
    }
    await s.start();

    await waitFor(
      'the client to resync',
      () => client?.status === 'live' && client.get(NS, 'added') === 'yes',
    );
    expect(client.get(NS, 'pool')).toBe(3);
    expect(seen.map((c) => [c.key, c.newValue, c.source])).toEqual(
      expect.arrayContaining([
        ['pool', 3, 'resync'],
        ['added', 'yes', 'resync'],
      ]),
    );
    // The compaction is handled, not reported as a failure.
    expect(errors).toEqual([]);
    // Live again after the resync: the next change arrives through the watch.
    expect((await put(s.current!, NS, 'pool', 4, 3)).status).toBe(200);
    await waitFor('the live change after the resync', () => client?.get(NS, 'pool') === 4);
  });

  it('asks its token provider for a fresh token after the server refused the cached one on a stream', async () => {
    server = await restartableConfigServer();
    const s = server;
    expect((await put(s.current!, NS, 'pool', 1)).status).toBe(201);
    const calls: boolean[] = [];
    let cached: { token: string; exp: number } | undefined;
    const mint = (ttlSec: number) => {
      const token = signDevToken(
        devTokenClaims({ roles: ['sys_auditor'], email: 'watcher@example.com' }),
        DEV_DEFAULT_SECRET,
        ttlSec,
      );
      return { token, exp: Math.floor(Date.now() / 1000) + ttlSec };
    };
    client = await createConfigClient({
      baseUrl: s.baseUrl,
      grpcUrl: s.grpcUrl,
      // A provider that caches, as the docs suggest, and mints again only when told the token was
      // refused. The first token lives 2 s; later ones an hour.
      tokenProvider: ({ forceRefresh }) => {
        calls.push(forceRefresh);
        if (cached === undefined) cached = mint(2);
        else if (forceRefresh) cached = mint(3_600);
        return cached.token;
      },
      namespaces: [NS],
      backoff,
    });
    expect((await put(s.current!, NS, 'pool', 2, 1)).status).toBe(200);
    await waitFor('the client to apply version 2 with its revision', () => client?.revision !== undefined);
    const firstExp = cached!.exp;
    await waitFor('the first token to expire', () => Date.now() / 1000 > firstExp + 1, 10_000);

    // The restart makes the watch re-open with the expired token: refused, then refreshed.
    await s.stop();
    await s.start();
    expect((await put(s.current!, NS, 'pool', 3, 2)).status).toBe(200);
    await waitFor('the client to resume with a fresh token', () => client?.get(NS, 'pool') === 3, 15_000);
    expect(calls).toContain(true);
    expect(client.status).toBe('live');
  });
});
