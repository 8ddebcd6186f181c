/**
 * The config use cases' answers to concurrent writers, on the real adapters (PostgreSQL repository
 * and writer, LRU cache). The domain tests script the same races on in-memory fakes; here the only
 * stand-in is WHEN the other writer runs: a hook on the real adapter puts it between our read and
 * our use of it, where a real race would.
 */

import type { ConfigEntry, PendingConfigChange, WriteResult } from '@k1s0/config-domain';
import { createDatabase, type Database } from '@k1s0/platform';
import { createTestDatabase, type TestDatabase } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LruConfigCache } from '../src/cache/lru-config-cache.js';
import { PostgresConfigRepository } from '../src/persistence/postgres-config-repository.js';
import { PostgresConfigWriter } from '../src/persistence/postgres-config-writer.js';
import type { ConfigServerUseCases } from '../src/use-cases.js';
import { migrateConfigServer, realUseCases } from './support/use-cases.js';

type Hook = () => Promise<void>;

/** The real repository; `afterNextRead` runs once, after a read has its rows and before it returns them. */
class RacedRepository extends PostgresConfigRepository {
  afterNextRead: Hook | undefined;

  override async find(namespace: string, key: string): Promise<ConfigEntry | undefined> {
    const entry = await super.find(namespace, key);
    await this.takeHook()?.();
    return entry;
  }

  override async findByService(serviceSegments: readonly string[]): Promise<ConfigEntry[]> {
    const entries = await super.findByService(serviceSegments);
    await this.takeHook()?.();
    return entries;
  }

  private takeHook(): Hook | undefined {
    const hook = this.afterNextRead;
    this.afterNextRead = undefined;
    return hook;
  }
}

/** The real writer; `beforeNextUpdate` runs once, before an update's compare-and-set is sent. */
class RacedWriter extends PostgresConfigWriter {
  beforeNextUpdate: Hook | undefined;

  override async update(
    next: ConfigEntry,
    expectedVersion: number,
    change: PendingConfigChange,
    requestId: string,
  ): Promise<WriteResult> {
    const hook = this.beforeNextUpdate;
    this.beforeNextUpdate = undefined;
    await hook?.();
    return super.update(next, expectedVersion, change, requestId);
  }
}

const ADMIN = 'admin@example.com';
const OPERATOR = 'operator@example.com';

let testDb: TestDatabase;
let database: Database;
let repository: RacedRepository;
let writer: RacedWriter;
let cache: LruConfigCache;
let useCases: ConfigServerUseCases;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 4 });
  await migrateConfigServer(database);
  repository = new RacedRepository(database);
  writer = new RacedWriter(database, { topic: 'k1s0.system.config.changed.v1' });
  cache = new LruConfigCache({ maxEntries: 100, ttlMs: 600_000 });
  ({ useCases } = realUseCases(database, { writer, repository, cache }));
});

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const put = (namespace: string, key: string, value: unknown, version: number, actor = OPERATOR) =>
  useCases.updateConfig({ namespace, key, value, version, actor });

describe('a read racing a write (real PostgreSQL and LRU cache)', () => {
  it('GetConfig does not cache the value it read once a write invalidated it', async () => {
    await put('system.race.get', 'k', 'old', 0);
    repository.afterNextRead = async () => {
      await put('system.race.get', 'k', 'new', 1); // commits and invalidates between read and cache
    };
    expect((await useCases.getConfig({ namespace: 'system.race.get', key: 'k' })).value).toBe('old');
    expect(cache.getEntry('system.race.get', 'k')).toBeUndefined();
    expect((await useCases.getConfig({ namespace: 'system.race.get', key: 'k' })).value).toBe('new');
  });

  it('GetServiceConfig does not cache the result it read once a write invalidated it', async () => {
    await put('system.raceservice.db', 'k', 'old', 0);
    repository.afterNextRead = async () => {
      await put('system.raceservice.db', 'k', 'new', 1);
    };
    const first = await useCases.getServiceConfig({ serviceName: 'raceservice' });
    expect(first.entries.map((e) => e.value)).toEqual(['old']);
    expect(cache.getServiceEntries('raceservice')).toBeUndefined();
    const second = await useCases.getServiceConfig({ serviceName: 'raceservice' });
    expect(second.entries.map((e) => e.value)).toEqual(['new']);
  });
});

describe('a compare-and-set racing a delete and re-create (real PostgreSQL)', () => {
  it('retries when the version the caller asked about comes back under a new id', async () => {
    const original = await put('system.race.recreate', 'k', 'v1', 0);
    let recreated: ConfigEntry | undefined;
    // Between our read (id A, version 1) and our update, the key is deleted and created again:
    // version 1 once more, but id B, so the update WHERE id = A AND version = 1 matches nothing.
    writer.beforeNextUpdate = async () => {
      await useCases.deleteConfig({ namespace: 'system.race.recreate', key: 'k', actor: ADMIN });
      recreated = (await put('system.race.recreate', 'k', 'again', 0)).entry;
    };
    const result = await put('system.race.recreate', 'k', 'mine', 1, ADMIN);

    expect(recreated?.id).not.toBe(original.entry.id);
    expect(result.entry).toMatchObject({ id: recreated?.id, value: 'mine', version: 2, updatedBy: ADMIN });
    expect(result.change).toMatchObject({ configEntryId: recreated?.id, oldValue: 'again', newVersion: 2 });
    expect(await repository.find('system.race.recreate', 'k')).toEqual(result.entry);
  });
});
