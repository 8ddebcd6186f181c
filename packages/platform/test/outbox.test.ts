import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database, runMigrations } from '../src/db/index.js';
import {
  createOutboxRelay,
  type OutboxMessage,
  type OutboxRelay,
  type OutboxRelayOptions,
  outboxInsertFragment,
  type Publisher,
} from '../src/outbox/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';
import { notes, outbox } from './fixtures/schema.js';
import { enqueue as enqueueVia } from './support/outbox-writes.js';

const logger = pino({ level: 'silent' });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Kafka stand-in: records acknowledged batches; `failNext` makes the next calls throw. */
class MemoryPublisher implements Publisher {
  readonly published: OutboxMessage[] = [];
  calls = 0;
  failNext = 0;

  async publish(messages: OutboxMessage[]): Promise<void> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker unavailable');
    }
    this.published.push(...messages);
  }

  values(): string[] {
    return this.published.map((message) => decoder.decode(message.value));
  }

  async close(): Promise<void> {}
}

function message(key: string, value: string): OutboxMessage {
  return {
    topic: 'test.topic.v1',
    key,
    value: encoder.encode(value),
    headers: { 'content-type': 'text/plain' },
  };
}

let testDb: TestDatabase;
let database: Database;
const relays: OutboxRelay[] = [];
const replicas: Database[] = [];

function startRelay(publisher: Publisher, overrides: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const relay = createOutboxRelay({
    database,
    table: outbox,
    publisher,
    logger,
    leaderLockKey: 'platform_test.outbox_relay',
    batchSize: 10,
    // Far beyond every wait below: anything relayed promptly was woken by NOTIFY.
    pollIntervalMs: 30_000,
    retryBackoff: { initialMs: 20, maxMs: 100 },
    leaderRetryIntervalMs: 100,
    ...overrides,
  });
  relays.push(relay);
  relay.start();
  return relay;
}

function enqueue(...messages: OutboxMessage[]): Promise<void> {
  return enqueueVia(database, outbox, messages);
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 4 });
  await runMigrations(database, {
    migrationsFolder: fileURLToPath(new URL('./fixtures/migrations', import.meta.url)),
    migrationsSchema: 'drizzle',
    migrationsTable: '__platform_test_migrations',
  });
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop(1_000)));
  await Promise.all(replicas.splice(0).map((replica) => replica.close()));
  await database.db.delete(outbox);
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

describe('outboxInsertFragment', () => {
  // As a writer uses it: the outbox row is inserted by the statement that makes the change, one
  // row per row of the named CTE, so a change that wrote nothing enqueues nothing.
  const write = (body: string | null, value: string) =>
    database.sql`with change as (
        insert into platform_test.notes (body) select ${body}::text where ${body}::text is not null returning id
      ) ${outboxInsertFragment(database.sql, outbox, message('ns.a', value), 'change')}`;

  it('inserts one row per row of the source, with topic, key, bytes and headers', async () => {
    await write('change', 'committed');
    await write(null, 'no change, no message');
    const rows = await database.db.select().from(outbox);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      topic: 'test.topic.v1',
      key: 'ns.a',
      headers: { 'content-type': 'text/plain' },
    });
    expect(decoder.decode(rows[0]!.value)).toBe('committed');
  });

  it('writes nothing when its statement fails', async () => {
    const { sql } = database;
    // Another write of the same statement violates NOT NULL: the change and its message both go.
    await expect(
      sql`with change as (
          insert into platform_test.notes (body) values ('rolled back') returning id
        ), queued as (
          ${outboxInsertFragment(sql, outbox, message('ns.a', 'rolled back'), 'change')}
        ), broken as (
          insert into platform_test.notes (body) values (null) returning id
        )
        select (select count(*) from queued), (select count(*) from broken)`,
    ).rejects.toMatchObject({ code: '23502' });
    expect(await database.db.select().from(outbox)).toEqual([]);
    expect(await database.db.select().from(notes).where(eq(notes.body, 'rolled back'))).toEqual([]);
  });
});

describe('createOutboxRelay', () => {
  it('publishes every row once, in id order across batches, and empties the outbox', async () => {
    for (let batch = 0; batch < 5; batch++) {
      await enqueue(
        ...Array.from({ length: 5 }, (_, i) => message(`ns.${(batch * 5 + i) % 3}`, `m${batch * 5 + i}`)),
      );
    }
    const publisher = new MemoryPublisher();
    const relay = startRelay(publisher);
    const expected = Array.from({ length: 25 }, (_, i) => `m${i}`);
    await expect.poll(() => publisher.values(), { timeout: 3_000 }).toEqual(expected);
    // batchSize 10: three publish calls for 25 rows.
    expect(publisher.calls).toBe(3);
    await expect.poll(() => relay.backlog()).toBe(0);
  });

  it('keeps order with no loss and no duplicates across failed publishes', async () => {
    await enqueue(message('ns.a', 'a1'), message('ns.b', 'b1'), message('ns.a', 'a2'));
    await enqueue(message('ns.a', 'a3'), message('ns.b', 'b2'));
    const publisher = new MemoryPublisher();
    publisher.failNext = 2;
    const registry = new Registry();
    startRelay(publisher, { batchSize: 2, metrics: registry });
    await expect.poll(() => publisher.values(), { timeout: 3_000 }).toEqual(['a1', 'b1', 'a2', 'a3', 'b2']);
    expect(publisher.calls).toBe(2 + 3);
    const errors = await registry.getSingleMetric('outbox_relay_errors_total')?.get();
    expect(errors?.values[0]?.value).toBe(2);
    // Counted once a batch's rows are deleted, which is after the publisher has them: the last
    // batch's count can trail the values above (it did under a full parallel test run).
    const published = async () =>
      (await registry.getSingleMetric('outbox_published_total')?.get())?.values[0];
    await expect
      .poll(published, { timeout: 3_000 })
      .toMatchObject({ value: 5, labels: { outbox: 'platform_test.outbox' } });
  });

  it('wakes on the NOTIFY after a commit (the safety poll is 30 s away)', async () => {
    const publisher = new MemoryPublisher();
    await enqueue(message('ns', 'before start'));
    startRelay(publisher);
    // The relay LISTENs before its first drain, so once this is out it is listening.
    await expect.poll(() => publisher.values(), { timeout: 3_000 }).toEqual(['before start']);
    await enqueue(message('ns', 'after commit'));
    await expect.poll(() => publisher.values(), { timeout: 10_000 }).toContain('after commit');
  });

  it('runs one active relay per outbox; the standby takes over when the leader stops', async () => {
    const first = new MemoryPublisher();
    const second = new MemoryPublisher();
    const relayA = startRelay(first);
    await expect.poll(() => relayA.isLeader()).toBe(true);
    // The second replica uses its own pool, as another process would.
    const replica = createDatabase({ url: testDb.url, max: 2 });
    replicas.push(replica);
    const relayB = startRelay(second, { database: replica });

    await enqueue(message('ns', 'one'), message('ns', 'two'));
    await expect.poll(() => first.values(), { timeout: 3_000 }).toEqual(['one', 'two']);
    expect(second.published).toEqual([]);
    expect(relayB.isLeader()).toBe(false);

    await relayA.stop();
    await expect.poll(() => relayB.isLeader(), { timeout: 3_000 }).toBe(true);
    await enqueue(message('ns', 'three'));
    await expect.poll(() => second.values(), { timeout: 3_000 }).toEqual(['three']);
    expect(first.values()).toEqual(['one', 'two']);
  });

  it('stop() retries until its timeout when the broker stays down, then gives up keeping the rows', async () => {
    const publisher = new MemoryPublisher();
    publisher.failNext = Number.POSITIVE_INFINITY;
    const relay = startRelay(publisher);
    await expect.poll(() => relay.isLeader()).toBe(true);
    await enqueue(message('ns', 'stuck'));
    await expect.poll(() => publisher.calls).toBeGreaterThan(0);
    const callsBefore = publisher.calls;
    const stoppingAt = Date.now();
    await relay.stop(1_000);
    const stoppedAfter = Date.now() - stoppingAt;
    expect(stoppedAfter).toBeGreaterThanOrEqual(990);
    expect(stoppedAfter).toBeLessThan(5_000);
    // Backoff 20 → 100 ms in a 1 s window: retrying means several attempts, giving up at most one.
    expect(publisher.calls - callsBefore).toBeGreaterThanOrEqual(3);
    expect(relay.isLeader()).toBe(false);
    expect(await database.db.select({ key: outbox.key }).from(outbox).orderBy(asc(outbox.id))).toEqual([
      { key: 'ns' },
    ]);
  });

  it('reports the backlog as a gauge', async () => {
    const registry = new Registry();
    const publisher = new MemoryPublisher();
    publisher.failNext = Number.POSITIVE_INFINITY;
    const relay = startRelay(publisher, { metrics: registry });
    await enqueue(message('ns', 'x'), message('ns', 'y'));
    expect(await relay.backlog()).toBe(2);
    const gauge = await registry.getSingleMetric('outbox_backlog')?.get();
    expect(gauge?.values[0]).toMatchObject({ value: 2, labels: { outbox: 'platform_test.outbox' } });
  });
});
