import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import type { ConfigChange, ConfigEntry, PendingConfigChange } from '@k1s0/config-domain';
import {
  createDatabase,
  createLogger,
  type Database,
  orderedLogFunctionSql,
  Registry,
  runMigrations,
} from '@k1s0/platform';
import { createTestDatabase, type TestDatabase, waitFor } from '@k1s0/platform/testing';
import { ConfigChangedEventSchema } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LruConfigCache } from '../src/cache/lru-config-cache.js';
import { PostgresChangeFeed } from '../src/feed/postgres-change-feed.js';
import { PostgresChangeLogRepository } from '../src/persistence/postgres-change-log-repository.js';
import { PostgresConfigRepository } from '../src/persistence/postgres-config-repository.js';
import { PostgresConfigWriter } from '../src/persistence/postgres-config-writer.js';
import { configChangeLogs, configOutbox, revisionLog } from '../src/persistence/schema.js';
import { configServerService } from '../src/service.js';

const TOPIC = 'k1s0.system.config.changed.v1';
let testDb: TestDatabase;
let database: Database;
let repository: PostgresConfigRepository;
let changeLog: PostgresChangeLogRepository;
let writer: PostgresConfigWriter;

const migrations = {
  migrationsFolder: configServerService.migrations.folder,
  migrationsSchema: 'config_server',
  migrationsTable: '__drizzle_migrations',
};

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 6 });
  await runMigrations(database, migrations);
  repository = new PostgresConfigRepository(database);
  changeLog = new PostgresChangeLogRepository(database);
  writer = new PostgresConfigWriter(database, { topic: TOPIC });
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

/**
 * A change in flight: a transaction that has drawn its revision (as the writer's first write does)
 * and stays open until released. Resolves once the revision is drawn.
 */
async function holdRevision(): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let drawn!: () => void;
  const revisionDrawn = new Promise<void>((resolve) => {
    drawn = resolve;
  });
  const done = database.sql.begin(async (tx) => {
    await tx`select seq from ${tx(revisionLog.schema)}.${tx(revisionLog.functionName)}(1)`;
    drawn();
    await held;
  });
  await Promise.race([revisionDrawn, done]);
  return {
    async release() {
      release();
      await done;
    },
  };
}

const at = new Date('2026-02-15T14:30:00.000Z');
let ids = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;

function entry(namespace: string, key: string, value: ConfigEntry['value'], version = 1): ConfigEntry {
  return {
    id: uuid(),
    namespace,
    key,
    value,
    version,
    description: 'd',
    createdBy: 'a@example.com',
    updatedBy: 'a@example.com',
    createdAt: at,
    updatedAt: at,
    secret: false,
    metadata: null,
  };
}

function created(e: ConfigEntry): PendingConfigChange {
  return {
    id: uuid(),
    configEntryId: e.id,
    namespace: e.namespace,
    key: e.key,
    oldValue: null,
    newValue: e.value,
    oldVersion: 0,
    newVersion: e.version,
    changeType: 'CREATED',
    changedBy: e.createdBy,
    changedAt: at,
    secret: false,
  };
}

function updated(before: ConfigEntry, after: ConfigEntry): PendingConfigChange {
  return {
    ...created(after),
    oldValue: before.value,
    oldVersion: before.version,
    changeType: 'UPDATED',
  };
}

async function countRows(table: typeof configChangeLogs | typeof configOutbox): Promise<number> {
  return (await database.db.select().from(table)).length;
}

async function committed(result: Awaited<ReturnType<PostgresConfigWriter['insert']>>): Promise<ConfigChange> {
  if (result.outcome !== 'committed') throw new Error('expected a committed write');
  return result.change;
}

describe('migrations', () => {
  it('ship the ordered-log function exactly as the platform generates it, and re-apply as a no-op', async () => {
    const file = readFileSync(`${migrations.migrationsFolder}/0001_allocate_revisions.sql`, 'utf8');
    expect(file).toContain(orderedLogFunctionSql(revisionLog));
    await runMigrations(database, migrations);
    const tables = await database.sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'config_server' order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual([
      '__drizzle_migrations',
      'api_keys',
      'audit_logs',
      'change_log_retention',
      'config_change_logs',
      'config_entries',
      'outbox',
      'outbox_dead_letters',
    ]);
  });
});

describe('PostgresConfigWriter', () => {
  it('writes entry, change log (revision, tx id) and outbox event in one transaction, then wakes the feeds', async () => {
    const notifications: string[] = [];
    const listener = await database.sql.listen('config_server_changed', (p) => notifications.push(p));
    const e = entry('system.auth.database', 'max_connections', { pool: 25, ssl: 'require' });
    const change = await committed(await writer.insert(e, created(e), 'req_corr_1'));
    expect(change.revision).toBeGreaterThan(0n);

    expect(await repository.find(e.namespace, e.key)).toEqual(e);
    const [log] = await database.sql<{ revision: string; tx_id: string }[]>`
      select revision::text, tx_id::text from config_server.config_change_logs where id = ${change.id}`;
    expect(BigInt(log!.revision)).toBe(change.revision);
    expect(log!.tx_id).toMatch(/^\d+$/);

    const [row] = await database.db.select().from(configOutbox);
    expect(row).toMatchObject({ topic: TOPIC, key: 'system.auth.database' });
    const event = fromBinary(ConfigChangedEventSchema, row!.value);
    expect(event).toMatchObject({
      namespace: 'system.auth.database',
      key: 'max_connections',
      oldValue: '',
      newValue: '{"pool":25,"ssl":"require"}',
      oldVersion: 0,
      newVersion: 1,
      changeType: 'CREATED',
      changedBy: 'a@example.com',
      metadata: {
        eventId: change.id,
        eventType: 'config.changed',
        source: 'config-server',
        timestamp: BigInt(at.getTime()),
        correlationId: 'req_corr_1',
        schemaVersion: 1,
      },
    });
    // A payload-free wake-up after commit: the feeds read what changed from the change log.
    await waitFor('one notification', () => notifications.length === 1);
    expect(notifications).toEqual(['']);
    await listener.unlisten();
  });

  it('reports conflict and writes nothing when the key exists or the version moved', async () => {
    const e = entry('system.cas.section', 'k', 1);
    await committed(await writer.insert(e, created(e), ''));
    const logs = await countRows(configChangeLogs);
    const outbox = await countRows(configOutbox);

    const duplicate = entry('system.cas.section', 'k', 2);
    expect(await writer.insert(duplicate, created(duplicate), '')).toEqual({ outcome: 'conflict' });
    const next = { ...e, value: 3, version: 2 };
    expect(await writer.update(next, 5, updated(e, next), '')).toEqual({ outcome: 'conflict' });
    expect(await writer.remove({ ...e, version: 9 }, updated(e, next), '')).toEqual({ outcome: 'conflict' });

    expect(await countRows(configChangeLogs)).toBe(logs);
    expect(await countRows(configOutbox)).toBe(outbox);
    expect((await repository.find(e.namespace, e.key))?.value).toBe(1);

    await committed(await writer.update(next, 1, updated(e, next), ''));
    expect(await repository.find(e.namespace, e.key)).toMatchObject({ value: 3, version: 2, createdAt: at });
    await committed(
      await writer.remove(next, { ...updated(next, next), changeType: 'DELETED', newValue: null }, ''),
    );
    expect(await repository.find(e.namespace, e.key)).toBeUndefined();
  });
});

describe('PostgresConfigRepository', () => {
  it('lists one namespace by key in code-unit order with literal, case-insensitive search', async () => {
    for (const key of ['b_key', 'B-upper', 'a%pct', 'ab', 'zz']) {
      const e = entry('system.list.section', key, key);
      await committed(await writer.insert(e, created(e), ''));
    }
    const other = entry('system.list.other', 'ab', 0);
    await committed(await writer.insert(other, created(other), ''));

    const all = await repository.list('system.list.section', { offset: 0, limit: 10 });
    expect(all.entries.map((e) => e.key)).toEqual(['B-upper', 'a%pct', 'ab', 'b_key', 'zz']);
    expect(all.total).toBe(5);
    const page = await repository.list('system.list.section', { offset: 2, limit: 2 });
    expect(page).toMatchObject({ total: 5 });
    expect(page.entries.map((e) => e.key)).toEqual(['ab', 'b_key']);
    expect(
      (await repository.list('system.list.section', { offset: 0, limit: 10, search: '%' })).entries.map(
        (e) => e.key,
      ),
    ).toEqual(['a%pct']);
    expect(
      (await repository.list('system.list.section', { offset: 0, limit: 10, search: '_' })).entries.map(
        (e) => e.key,
      ),
    ).toEqual(['b_key']);
    expect((await repository.list('system.list.section', { offset: 0, limit: 10, search: 'B' })).total).toBe(
      3,
    );
  });

  it('finds service entries by the second namespace segment', async () => {
    for (const [ns, key] of [
      ['system.svc.db', 'k2'],
      ['system.svc.db', 'k1'],
      ['business.svc.api', 'k'],
      ['system.svc-server.x', 'k'],
      ['system.other.svc', 'k'],
    ] as const) {
      const e = entry(ns, key, 1);
      await committed(await writer.insert(e, created(e), ''));
    }
    const found = await repository.findByService(['svc-server', 'svc']);
    expect(found.map((e) => `${e.namespace}/${e.key}`)).toEqual([
      'business.svc.api/k',
      'system.svc-server.x/k',
      'system.svc.db/k1',
      'system.svc.db/k2',
    ]);
  });
});

describe('PostgresChangeLogRepository', () => {
  it('hides changes behind an open transaction that holds a lower revision', async () => {
    const before = await changeLog.latestSettledRevision();
    const slow = await holdRevision();
    const e = entry('system.horizon.section', 'k', 1);
    const change = await committed(await writer.insert(e, created(e), ''));
    expect(await changeLog.changesAfter(before, [], 100)).toEqual([]);
    await slow.release();
    const visible = await changeLog.changesAfter(before, [], 100);
    expect(visible.map((c) => c.revision)).toEqual([change.revision]);
    expect(await changeLog.changesAfter(before, ['system.other.ns'], 100)).toEqual([]);
  });

  it('prunes the settled prefix and reports the oldest retained revision', async () => {
    expect(await changeLog.oldestRetainedRevision()).toBe(1n);
    const latest = await changeLog.latestSettledRevision();
    expect(await changeLog.prune(new Date(Date.now() + 60_000))).toBeGreaterThan(0);
    expect(await changeLog.oldestRetainedRevision()).toBe(latest + 1n);
    expect(await changeLog.changesAfter(0n, [], 100)).toEqual([]);
    expect(await changeLog.prune(new Date(Date.now() + 60_000))).toBe(0);
    expect(await changeLog.oldestRetainedRevision()).toBe(latest + 1n);
  });
});

describe('LruConfigCache', () => {
  it('expires after the TTL, evicts least recently used, counts hits and misses, moves the generation', async () => {
    let now = 0;
    const registry = new Registry();
    const cache = new LruConfigCache({
      maxEntries: 2,
      ttlMs: 1000,
      now: () => now,
      metrics: { registry, prefix: 't' },
    });
    const a = entry('system.c.a', 'a', 1);
    const b = entry('system.c.b', 'b', 1);
    const c = entry('system.c.c', 'c', 1);
    cache.setEntry(a);
    cache.setEntry(b);
    expect(cache.getEntry('system.c.a', 'a')).toBe(a);
    cache.setEntry(c); // evicts b, the least recently used
    expect(cache.getEntry('system.c.b', 'b')).toBeUndefined();
    now = 1000;
    expect(cache.getEntry('system.c.a', 'a')).toBeUndefined();
    const generation = cache.generation();
    cache.setServiceEntries('svc', [c]);
    cache.invalidateServiceEntries('svc');
    expect(cache.getServiceEntries('svc')).toBeUndefined();
    expect(cache.generation()).toBeGreaterThan(generation);
    const text = await registry.metrics();
    expect(text).toContain('t_cache_hits_total{cache="entry"} 1');
    expect(text).toContain('t_cache_misses_total{cache="entry"} 2');
    expect(text).toContain('t_cache_misses_total{cache="service"} 1');
  });
});

describe('PostgresChangeFeed', () => {
  it('invalidates the cache and delivers committed changes in revision order to subscribers', async () => {
    const cache = new LruConfigCache({ maxEntries: 10, ttlMs: 60_000 });
    const feed = new PostgresChangeFeed({
      database,
      changeLog,
      cache,
      logger: createLogger({ name: 't', level: 'silent' }),
      pollIntervalMs: 1000,
    });
    await feed.start();
    const seen: bigint[] = [];
    const unsubscribe = feed.subscribe({ onChange: (c) => seen.push(c.revision), onError: () => {} });
    const e = entry('system.feed.section', 'k', 1);
    cache.setEntry(e);
    const first = await committed(await writer.insert(e, created(e), ''));
    const next = { ...e, value: 2, version: 2 };
    const second = await committed(await writer.update(next, 1, updated(e, next), ''));
    await waitFor('two changes', () => seen.length === 2);
    expect(seen).toEqual([first.revision, second.revision]);
    expect(cache.getEntry(e.namespace, e.key)).toBeUndefined();
    expect(feed.subscriberCount()).toBe(1);
    unsubscribe();
    expect(feed.subscriberCount()).toBe(0);
    await feed.stop();
  });

  it('hands a change to thousands of subscribers over several loop turns, each in revision order', async () => {
    const feed = new PostgresChangeFeed({
      database,
      changeLog,
      cache: new LruConfigCache({ maxEntries: 10, ttlMs: 60_000 }),
      logger: createLogger({ name: 't', level: 'silent' }),
      pollIntervalMs: 1000,
    });
    await feed.start();
    const subscribers = 2500;
    const seen = Array.from({ length: subscribers }, () => [] as bigint[]);
    // Set by an immediate queued when the first subscriber gets the first change: whether the
    // loop turned (the frames written so far could go out) before the last one got it.
    let turned = false;
    let turnedBeforeLast: boolean | undefined;
    for (let i = 0; i < subscribers; i++) {
      feed.subscribe({
        onChange: (c) => {
          if (i === 0 && seen[0]?.length === 0) setImmediate(() => (turned = true));
          if (i === subscribers - 1 && seen[i]?.length === 0) turnedBeforeLast = turned;
          seen[i]?.push(c.revision);
        },
        onError: () => {},
      });
    }
    try {
      const e = entry('system.feedfan.section', 'k', 1);
      const first = await committed(await writer.insert(e, created(e), ''));
      const next = { ...e, value: 2, version: 2 };
      const second = await committed(await writer.update(next, 1, updated(e, next), ''));
      await waitFor('every subscriber has both', () => seen.every((s) => s.length === 2));
      for (const s of seen) expect(s).toEqual([first.revision, second.revision]);
      expect(turnedBeforeLast).toBe(true);
    } finally {
      await feed.stop();
    }
  });

  it('invalidates a committed change at once even while an older transaction holds it back from delivery', async () => {
    const cache = new LruConfigCache({ maxEntries: 10, ttlMs: 60_000 });
    const feed = new PostgresChangeFeed({
      database,
      changeLog,
      cache,
      logger: createLogger({ name: 't', level: 'silent' }),
      pollIntervalMs: 60_000, // out of reach: only the post-commit wake-up can act in time
    });
    await feed.start();
    const seen: bigint[] = [];
    feed.subscribe({ onChange: (c) => seen.push(c.revision), onError: () => {} });
    const slow = await holdRevision();
    try {
      const e = entry('system.feedheld.section', 'k', 1);
      cache.setEntry(e); // what another instance might still hold
      const change = await committed(await writer.insert(e, created(e), ''));
      await waitFor('the cache invalidation', () => cache.getEntry(e.namespace, e.key) === undefined);
      expect(seen).toEqual([]); // behind the safe horizon: not delivered yet
      await slow.release();
      await waitFor('the delivery', () => seen.length === 1);
      expect(seen).toEqual([change.revision]);
    } finally {
      await slow.release();
      await feed.stop();
    }
  });
});
