/**
 * Group commit of config writes (issue 13), on the real adapters and PostgreSQL: the use cases as
 * the REST and gRPC handlers call them, the PostgreSQL writer batching their compare-and-sets.
 * A batch is formed the way it forms under load: a lone write occupies the commit slot (here held
 * on a key lock the test owns) while the others queue behind it; released, they go together.
 */

import { randomUuids } from '@k1s0/config-domain';
import {
  createDatabase,
  type Database,
  DEFAULT_WRITE_BATCH_LIMITS,
  type WriteBatchLimits,
} from '@k1s0/platform';
import { createTestDatabase, type TestDatabase, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresConfigWriter } from '../src/persistence/postgres-config-writer.js';
import { configKeyLockName } from '../src/persistence/write-batch.js';
import type { ConfigServerUseCases } from '../src/use-cases.js';
import { migrateConfigServer, realUseCases } from './support/use-cases.js';

const OPERATOR = 'operator@example.com';
const ADMIN = 'admin@example.com';

interface Instance {
  database: Database;
  writer: PostgresConfigWriter;
  useCases: ConfigServerUseCases;
}

let testDb: TestDatabase;
let a: Instance;
let b: Instance;
/** The test's own pool: lock holder and observer. */
let observer: Database;

/** A config-server instance's write path on its own pool (what `service.ts` assembles). */
function instance(url: string, batch: WriteBatchLimits): Instance {
  const database = createDatabase({ url, max: 6 });
  const writer = new PostgresConfigWriter(database, { topic: 'k1s0.system.config.changed.v1', batch });
  const { useCases } = realUseCases(database, { writer });
  return { database, writer, useCases };
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  observer = createDatabase({ url: testDb.url, max: 4 });
  await migrateConfigServer(observer);
  // A: one batch in flight, so that a gate write holding the slot makes the next writes one batch.
  a = instance(testDb.url, { ...DEFAULT_WRITE_BATCH_LIMITS, maxInFlight: 1 });
  b = instance(testDb.url, DEFAULT_WRITE_BATCH_LIMITS);
});

afterAll(async () => {
  await a?.database.close();
  await b?.database.close();
  await observer?.close();
  await testDb?.drop();
});

const put = (on: Instance, namespace: string, key: string, value: unknown, version: number) =>
  on.useCases.updateConfig({ namespace, key, value, version, actor: OPERATOR });

const remove = (on: Instance, namespace: string, key: string) =>
  on.useCases.deleteConfig({ namespace, key, actor: ADMIN });

/** A session lock on a key's write lock, held on its own connection until released. */
async function holdKeyLock(namespace: string, key: string): Promise<() => Promise<void>> {
  const conn = await observer.sql.reserve();
  const name = configKeyLockName(namespace, key);
  await conn`select pg_advisory_lock(hashtextextended(${name}, 0))`;
  return async () => {
    await conn`select pg_advisory_unlock(hashtextextended(${name}, 0))`;
    conn.release();
  };
}

/** Backends of this database (other than the asking one) waiting on a lock. */
async function lockWaiters(): Promise<number[]> {
  const rows = await observer.sql<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
  return rows.map((row) => row.pid);
}

/** A write for asOneBatch: `queues` when it reaches the writer (false: refused before any write). */
interface BatchWrite {
  run: () => Promise<unknown>;
  queues: boolean;
}
const queued = (run: () => Promise<unknown>): BatchWrite => ({ run, queues: true });
const refused = (run: () => Promise<unknown>): BatchWrite => ({ run, queues: false });

function settle(promise: Promise<unknown>): Promise<PromiseSettledResult<unknown>> {
  return promise.then(
    (v) => ({ status: 'fulfilled', value: v }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/**
 * Runs `writes` so that those reaching the writer go as ONE batch, in the order given: a gate
 * write holds the commit slot (blocked on a key lock) while each of them joins the queue in turn.
 */
async function asOneBatch(writes: BatchWrite[]): Promise<PromiseSettledResult<unknown>[]> {
  const gateNamespace = 'system.gate.section';
  const gateKey = `gate-${randomUuids.newId()}`;
  const release = await holdKeyLock(gateNamespace, gateKey);
  const gate = put(a, gateNamespace, gateKey, 'gate', 0);
  await waitFor('the gate write to wait for its key lock', async () => (await lockWaiters()).length === 1);
  const results: Promise<PromiseSettledResult<unknown>>[] = [];
  for (const [i, write] of writes.entries()) {
    const before = a.writer.queuedWrites;
    const result = settle(write.run());
    results.push(result);
    if (write.queues) await waitFor(`write ${i} to queue`, () => a.writer.queuedWrites === before + 1);
    else await result;
  }
  await release();
  expect((await gate).created).toBe(true);
  return Promise.all(results);
}

function value<T>(result: PromiseSettledResult<T> | undefined): T {
  if (result?.status !== 'fulfilled') throw new Error(`expected a result, got ${JSON.stringify(result)}`);
  return result.value;
}

function rejection(result: PromiseSettledResult<unknown> | undefined): Record<string, unknown> {
  if (result?.status !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.reason as Record<string, unknown>;
}

interface LogRow {
  revision: string;
  tx_id: string;
  id: string;
  namespace: string;
  key: string;
  new_version: number;
  change_type: string;
}

async function changeLogs(namespacePrefix: string): Promise<LogRow[]> {
  return observer.sql<LogRow[]>`
    select revision::text, tx_id::text, id::text, namespace, key, new_version, change_type
    from config_server.config_change_logs where namespace like ${`${namespacePrefix}%`}
    order by config_change_logs.revision`;
}

/** Outbox rows (in publication order) whose event is one of `changeIds`. */
async function outboxEventIds(changeIds: readonly string[]): Promise<string[]> {
  const rows = await observer.sql<{ event_id: string }[]>`
    select l.id::text as event_id from config_server.outbox o
    join config_server.config_change_logs l on position(convert_to(l.id::text, 'UTF8') in o.value) > 0
    where l.id = any(${changeIds}::uuid[]) order by o.id`;
  return rows.map((row) => row.event_id);
}

describe('group commit of config writes (real PostgreSQL)', () => {
  it('one batch of creates, updates, deletes, conflicts and same-key pairs: one transaction, each its own answer', async () => {
    const ns = `system.batch${randomUuids.newId().slice(0, 8)}.section`;
    await put(a, ns, 'upd', 'v1', 0);
    await put(a, ns, 'hot', 'v1', 0);
    await put(a, ns, 'del', 'v1', 0);
    await put(a, ns, 'gone', 'v1', 0);
    await put(a, ns, 'again', 'v1', 0);

    const results = await asOneBatch([
      queued(() => put(a, ns, 'new', { n: 1 }, 0)), // 0: create
      queued(() => put(a, ns, 'upd', 'v2', 1)), // 1: update
      queued(() => put(a, ns, 'hot', 'first', 1)), // 2: update …
      queued(() => put(a, ns, 'hot', 'second', 1)), // 3: … the same version again: sees the first's version 2
      queued(() => remove(a, ns, 'del')), // 4: delete
      queued(() => remove(a, ns, 'gone')), // 5: delete …
      queued(() => put(a, ns, 'gone', 'late', 1)), // 6: … and an update of what it deletes: not found
      queued(() => remove(a, ns, 'again')), // 7: delete …
      queued(() => put(a, ns, 'again', 'reborn', 0)), // 8: … and a create of the same key: deferred, then created
      refused(() => put(a, 'Not A Namespace', 'k', 1, 0)), // 9: invalid, refused before any write
      refused(() => put(a, ns, 'upd', 'stale', 7)), // 10: version conflict decided from the read
      queued(() => put(a, ns, 'new2', [1, 2], 0)), // 11: create, queued behind the refused ones
    ]);

    expect(value(results[0])).toMatchObject({ created: true, entry: { value: { n: 1 }, version: 1 } });
    expect(value(results[1])).toMatchObject({ created: false, entry: { value: 'v2', version: 2 } });
    expect(value(results[2])).toMatchObject({ entry: { value: 'first', version: 2 } });
    expect(rejection(results[3])).toMatchObject({
      kind: 'conflict',
      code: 'VERSION_CONFLICT',
      details: [{ field: 'version', message: '期待値: 1, 現在値: 2' }],
    });
    expect(value(results[4])).toMatchObject({ changeType: 'DELETED', oldVersion: 1 });
    expect(value(results[5])).toMatchObject({ changeType: 'DELETED', oldVersion: 1 });
    expect(rejection(results[6])).toMatchObject({ kind: 'not_found', code: 'KEY_NOT_FOUND' });
    expect(value(results[7])).toMatchObject({ changeType: 'DELETED' });
    expect(value(results[8])).toMatchObject({ created: true, entry: { value: 'reborn', version: 1 } });
    expect(rejection(results[9])).toMatchObject({ kind: 'validation', code: 'VALIDATION_FAILED' });
    expect(rejection(results[10])).toMatchObject({ kind: 'conflict', code: 'VERSION_CONFLICT' });
    expect(value(results[11])).toMatchObject({ created: true });

    const logs = (await changeLogs(ns)).slice(5); // after the five set-up creates
    const batch = logs.filter((row) => !(row.key === 'again' && row.change_type === 'CREATED'));
    // Everything the batch committed, in ONE transaction, revisions in batch order.
    expect(batch.map((row) => [row.key, row.change_type])).toEqual([
      ['new', 'CREATED'],
      ['upd', 'UPDATED'],
      ['hot', 'UPDATED'],
      ['del', 'DELETED'],
      ['gone', 'DELETED'],
      ['again', 'DELETED'],
      ['new2', 'CREATED'],
    ]);
    expect(new Set(batch.map((row) => row.tx_id)).size).toBe(1);
    // The deferred create came after, in its own batch, seeing the delete.
    const recreated = logs.find((row) => row.key === 'again' && row.change_type === 'CREATED');
    expect(BigInt(recreated!.revision)).toBeGreaterThan(BigInt(batch[6]!.revision));
    expect(recreated!.tx_id).not.toBe(batch[0]!.tx_id);
    // One outbox event per committed change, published in revision order.
    expect(await outboxEventIds(logs.map((row) => row.id))).toEqual(logs.map((row) => row.id));
    expect((await a.useCases.getConfig({ namespace: ns, key: 'hot' })).value).toBe('first');
  });

  it('a write the database rejects fails alone; the rest of its batch commits', async () => {
    const ns = `system.reject${randomUuids.newId().slice(0, 8)}.section`;
    await put(a, ns, 'upd', 1, 0);
    // A write that passes every rule and that the database refuses (as a full disk or a broken
    // constraint would): a trigger failing the insert of one key.
    await observer.sql.unsafe(`
      create function config_server.refuse_poison() returns trigger language plpgsql as $$
      begin raise exception 'poisoned write'; end $$;
      create trigger refuse_poison before insert on config_server.config_entries
        for each row when (new.key = 'poison') execute function config_server.refuse_poison();`);
    try {
      const results = await asOneBatch([
        queued(() => put(a, ns, 'ok1', 1, 0)),
        queued(() => put(a, ns, 'poison', 1, 0)),
        queued(() => put(a, ns, 'upd', 2, 1)),
        queued(() => put(a, ns, 'ok2', 1, 0)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(String(rejection(results[1]).message)).toMatch(/poisoned write/);
    } finally {
      await observer.sql.unsafe(`drop trigger refuse_poison on config_server.config_entries;
        drop function config_server.refuse_poison();`);
    }
    const logs = await changeLogs(ns);
    expect(logs.map((row) => row.key).sort()).toEqual(['ok1', 'ok2', 'upd', 'upd']);
    expect(await outboxEventIds(logs.map((row) => row.id))).toEqual(logs.map((row) => row.id));
    await expect(a.useCases.getConfig({ namespace: ns, key: 'poison' })).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
    });
  });

  it('two instances batching against one database: no deadlock, no lost update, tx order = revision order', async () => {
    const ns = `system.two${randomUuids.newId().slice(0, 8)}.section`;
    const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
    for (const key of keys) await put(a, ns, key, 0, 0);
    let successes = 0;
    // 8 writers per instance; each walks the keys in its own order (the instances in opposite
    // directions, so their batches lock overlapping key sets) with the version it last saw.
    const writer = async (on: Instance, direction: number, offset: number) => {
      const seen = new Map(keys.map((key) => [key, 1]));
      for (let i = 0; i < 12; i++) {
        const key = keys[(offset + direction * i + keys.length * 12) % keys.length]!;
        try {
          const result = await put(on, ns, key, i, seen.get(key)!);
          seen.set(key, result.entry.version);
          successes++;
        } catch (error) {
          const conflict = error as { code?: string; details?: { message: string }[] };
          if (conflict.code !== 'VERSION_CONFLICT') throw error;
          seen.set(key, Number(/現在値: (\d+)/.exec(conflict.details?.[0]?.message ?? '')?.[1]));
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: 8 }, (_, w) => writer(a, 1, w)),
      ...Array.from({ length: 8 }, (_, w) => writer(b, -1, w)),
    ]);
    const logs = await changeLogs(ns);
    expect(logs).toHaveLength(keys.length + successes);
    for (const key of keys) {
      const versions = logs.filter((row) => row.key === key).map((row) => row.new_version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      const entry = await a.useCases.getConfig({ namespace: ns, key });
      expect(entry.version).toBe(versions.length);
    }
    const txOrder = logs.map((row) => BigInt(row.tx_id));
    expect(txOrder).toEqual([...txOrder].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    // One event per change. Per key in revision order (the key lock orders the batches); across
    // keys, concurrent batches of two instances may insert their outbox rows in either order.
    const published = await outboxEventIds(logs.map((row) => row.id));
    expect([...published].sort()).toEqual(logs.map((row) => row.id).sort());
    for (const key of keys) {
      const ofKey = new Set(logs.filter((row) => row.key === key).map((row) => row.id));
      expect(published.filter((id) => ofKey.has(id))).toEqual(
        logs.filter((row) => row.key === key).map((row) => row.id),
      );
    }
    // Fewer transactions than changes: the instances did batch.
    expect(new Set(logs.map((row) => row.tx_id)).size).toBeLessThan(logs.length);
  });

  it('connection killed while the batch waits inside its statement: retried on another connection, each write commits once', async () => {
    const ns = `system.kill${randomUuids.newId().slice(0, 8)}.section`;
    await put(a, ns, 'locked', 'v1', 0);
    // Holding the entry row blocks the batch's update inside its one statement (after its
    // revisions were drawn and its creates were written).
    const holder = await observer.sql.reserve();
    await holder`begin`;
    await holder`select 1 from config_server.config_entries where namespace = ${ns} and key = 'locked' for update`;
    const gateDone = asOneBatch([
      queued(() => put(a, ns, 'w1', 1, 0)),
      queued(() => put(a, ns, 'locked', 'v2', 1)),
      queued(() => put(a, ns, 'w2', 1, 0)),
    ]);
    let victim: number | undefined;
    await waitFor('the batch to wait on the row lock', async () => {
      const waiters = await lockWaiters();
      victim = waiters[0];
      return waiters.length === 1 && a.writer.queuedWrites === 0;
    });
    await observer.sql`select pg_terminate_backend(${victim!}::int)`;
    await waitFor('the retry to wait on the row lock', async () => {
      const waiters = await lockWaiters();
      return waiters.length === 1 && waiters[0] !== victim;
    });
    // The killed attempt was rolled back whole: its creates are not there.
    expect(await changeLogs(ns)).toHaveLength(1);
    await holder`commit`;
    holder.release();
    const results = (await gateDone).map(value);
    expect(results).toMatchObject([
      { entry: { version: 1 } },
      { entry: { version: 2 } },
      { entry: { version: 1 } },
    ]);
    const logs = await changeLogs(ns);
    expect(logs.map((row) => [row.key, row.new_version])).toEqual([
      ['locked', 1],
      ['w1', 1],
      ['locked', 2],
      ['w2', 1],
    ]);
    expect(new Set(logs.slice(1).map((row) => row.tx_id)).size).toBe(1);
    expect(await outboxEventIds(logs.map((row) => row.id))).toEqual(logs.map((row) => row.id));
  });
});
