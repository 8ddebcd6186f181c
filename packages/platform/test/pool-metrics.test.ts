import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database, trackDatabasePool } from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe('DB pool gauges (postgres.js poolStats, patches/postgres@3.4.9.patch)', () => {
  let testDb: TestDatabase;
  let database: Database;
  const registry = new Registry();

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = createDatabase({ url: testDb.url, max: 3 });
    trackDatabasePool(registry, database);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

  it('reports the pool size, and a connection in use while a transaction holds it', async () => {
    expect(await gauge('db_pool_max_connections')).toBe(3);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const transaction = database.sql.begin(async (tx) => {
      await tx`select 1`;
      entered();
      await held;
    });
    await inside;
    expect(await gauge('db_pool_connections_in_use')).toBe(1);
    expect(await gauge('db_pool_connections_open')).toBeGreaterThanOrEqual(1);
    release();
    await transaction;
    expect(await gauge('db_pool_connections_in_use')).toBe(0);
    expect(await gauge('db_pool_waiting_queries')).toBe(0);
  });
});
