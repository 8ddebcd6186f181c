import { createTestDatabase, type TestDatabase, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, collect, fromJson, grpcClient, waitForSubscribers } from './support/grpc.js';
import {
  type ConfigServer,
  call,
  type EntryBody,
  put,
  startConfigServer,
  tokens,
} from './support/service.js';

let testDb: TestDatabase;
let a: ConfigServer;
let b: ConfigServer;

// The change feed's safety poll (default 1 s) and the cache TTL are far beyond every wait below:
// whatever B learns of A's writes in time, it learns from the NOTIFY.
const SLOW_POLL = { config_server: { watch: { poll_interval: '10m' }, cache: { ttl: '10m' } } };

beforeAll(async () => {
  testDb = await createTestDatabase();
  a = await startConfigServer(testDb.url, {}, SLOW_POLL);
  b = await startConfigServer(testDb.url, {}, SLOW_POLL);
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await testDb?.drop();
});

const read = (server: ConfigServer, path: string) =>
  call<EntryBody>(server, 'GET', path, { token: tokens.auditor });

describe('two instances on one database', () => {
  it('a write through A is read through B, which had the old value cached, on the NOTIFY', async () => {
    const path = '/api/v1/config/system.cluster.section/k';
    await put(a, 'system.cluster.section', 'k', 0);
    const latencies: number[] = [];
    for (let version = 1; version <= 5; version++) {
      expect((await read(b, path)).body.value).toBe(version - 1); // B caches the current value
      expect((await read(b, path)).body.value).toBe(version - 1);
      const written = await put(a, 'system.cluster.section', 'k', version, version);
      expect(written.status).toBe(200);
      const start = performance.now();
      await waitFor(`B to read version ${version}`, async () => (await read(b, path)).body.value === version);
      latencies.push(performance.now() - start);
    }
    // For the record only (SPEC target < 100 ms; bench/ measures it): a loaded 2-core test run
    // says little about speed. The property asserted is that it happens without the poll.
    console.info(
      `cross-instance invalidation latency (ms): ${latencies.map((l) => l.toFixed(1)).join(', ')}`,
    );
  });

  it('invalidates service bulk results on the other instance too', async () => {
    await put(a, 'system.clusterbulk.section', 'k', 'old');
    const path = '/api/v1/config/services/clusterbulk';
    const before = await call<{ entries: { value: unknown }[] }>(b, 'GET', path, { token: tokens.none });
    expect(before.body.entries[0]?.value).toBe('old');
    await put(a, 'system.clusterbulk.section', 'k', 'new', 1);
    await waitFor('B to read the new bulk result', async () => {
      const after = await call<{ entries: { value: unknown }[] }>(b, 'GET', path, { token: tokens.none });
      return after.body.entries[0]?.value === 'new';
    });
  });

  it('a watch opened on B receives changes made through A, in order', async () => {
    const abort = new AbortController();
    const watch = collect(
      grpcClient(b).watchConfig(
        { namespaces: ['system.cluster.watch'] },
        { ...auth(tokens.none), signal: abort.signal },
      ),
    );
    await waitForSubscribers(b, 1);
    await put(a, 'system.cluster.watch', 'k', 'x');
    await put(b, 'system.cluster.watch', 'k', 'y', 1);
    await put(a, 'system.cluster.watch', 'k', 'z', 2);
    await waitFor('3 watch events', () => watch.events.length === 3);
    expect(watch.events.map((e) => fromJson(e.newValue))).toEqual(['x', 'y', 'z']);
    expect(watch.events.map((e) => e.newVersion)).toEqual([1, 2, 3]);
    abort.abort();
    await watch.done;
    await waitForSubscribers(b, 0);
  });
});
