import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CheckpointStore,
  createEventStoreClient,
  fileCheckpoint,
  type StoredEvent,
} from '../src/index.js';
import { postgresCheckpoint } from '../src/postgres.js';
import { type RestartableEventStore, restartableEventStore, tokenFor, waitFor } from './support.js';

const backoff = { baseMs: 50, maxMs: 300 };

describe('subscribeAll across a server restart', () => {
  let store: RestartableEventStore | undefined;
  let dir: string | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await store?.dispose();
    store = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Consumes in the background until aborted; returns what it saw. */
  function consume(iterable: AsyncIterable<StoredEvent>) {
    const seen: StoredEvent[] = [];
    const done = (async () => {
      for await (const event of iterable) seen.push(event);
    })();
    return { seen, done };
  }

  async function appendMany(
    client: ReturnType<typeof createEventStoreClient>,
    stream: string,
    from: number,
    n: number,
  ) {
    for (let i = 0; i < n; i++)
      await client.append(stream, [{ type: 'Tick', data: { n: from + i } }], { expectedVersion: 'any' });
  }

  it('resumes after the last delivered sequence: no gap, no duplicate, and the checkpoint survives', async () => {
    store = await restartableEventStore();
    const s = store;
    dir = await mkdtemp(join(tmpdir(), 'k1s0-sub-'));
    const writer = createEventStoreClient({ baseUrl: s.baseUrl, token: tokenFor('sys_operator'), backoff });
    const reader = createEventStoreClient({ baseUrl: s.baseUrl, token: tokenFor('sys_auditor'), backoff });
    await appendMany(writer, 'clock-a', 1, 3);

    const checkpoint = fileCheckpoint(join(dir, 'sub.json'));
    const abort = new AbortController();
    const sub = consume(reader.subscribeAll({ checkpoint, signal: abort.signal }));
    cleanups.push(async () => {
      abort.abort();
      await sub.done;
    });
    await waitFor('sub.seen.length === 3', () => sub.seen.length === 3);

    await s.stop();
    await new Promise((r) => setTimeout(r, 300));
    await s.start();
    await appendMany(writer, 'clock-b', 4, 3);
    await appendMany(writer, 'clock-a', 7, 2);
    await waitFor('sub.seen.length === 8', () => sub.seen.length === 8, 15_000);
    await new Promise((r) => setTimeout(r, 300));

    expect(sub.seen.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const sequences = sub.seen.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(8);
    abort.abort();
    await sub.done;
    cleanups.pop();

    // The consumer finished with the 8th event (it asked for the next before the abort)... or the
    // 7th: the checkpoint is saved when the next event is requested. A new subscription resumes
    // after whatever was saved, never before it.
    const saved = await checkpoint.load();
    expect(saved === sequences[7] || saved === sequences[6]).toBe(true);
    await appendMany(writer, 'clock-a', 9, 1);
    const again = new AbortController();
    const resumed = consume(reader.subscribeAll({ checkpoint, signal: again.signal }));
    cleanups.push(async () => {
      again.abort();
      await resumed.done;
    });
    const expected = saved === sequences[7] ? [9] : [8, 9];
    await waitFor('resumed.seen.length === expected.length', () => resumed.seen.length === expected.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed.seen.map((e) => (e.data as { n: number }).n)).toEqual(expected);
  });

  it('keeps its checkpoint in a PostgreSQL table', async () => {
    store = await restartableEventStore();
    const sql = postgres(store.databaseUrl, { max: 2 });
    cleanups.push(() => sql.end());
    const a: CheckpointStore = await postgresCheckpoint({ sql, name: 'projector-a' });
    const b: CheckpointStore = await postgresCheckpoint({
      sql,
      name: 'projector-b',
      table: 'public.k1s0_event_checkpoints',
    });
    expect(await a.load()).toBeUndefined();
    await a.save(41);
    await a.save(42);
    await b.save(7);
    expect(await a.load()).toBe(42);
    expect(await b.load()).toBe(7);
    const rows = await sql<{ name: string }[]>`select name from k1s0_event_checkpoints order by name`;
    expect(rows.map((r) => r.name)).toEqual(['projector-a', 'projector-b']);
  });

  it('aggregate folds from the latest snapshot, then the events after it', async () => {
    store = await restartableEventStore();
    const operator = createEventStoreClient({ baseUrl: store.baseUrl, token: tokenFor('sys_operator') });
    const auditor = createEventStoreClient({ baseUrl: store.baseUrl, token: tokenFor('sys_auditor') });
    const evolve = (sum: number, e: StoredEvent) => sum + (e.data as { n: number }).n;
    expect(await auditor.aggregate('acct-1', evolve, 0)).toEqual({
      state: 0,
      version: 0,
      fromSnapshot: undefined,
    });
    await appendMany(operator, 'acct-1', 1, 4); // 1+2+3+4
    expect(await auditor.aggregate('acct-1', evolve, 0)).toEqual({
      state: 10,
      version: 4,
      fromSnapshot: undefined,
    });
    // A snapshot whose state differs from the fold shows that the fold really started from it.
    await operator.createSnapshot('acct-1', 3, 100);
    await appendMany(operator, 'acct-1', 5, 1);
    expect(await auditor.aggregate('acct-1', evolve, 0)).toEqual({ state: 109, version: 5, fromSnapshot: 3 });

    const pages: number[][] = [];
    for await (const page of auditor.read('acct-1', { pageSize: 2 })) pages.push(page.map((e) => e.version));
    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
  });
});
