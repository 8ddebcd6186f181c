import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/index.js';
import { tryAcquireLeadership } from '../src/leader/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 2 });
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

async function advisoryLockHolders(): Promise<number[]> {
  const rows = await database.sql<{ pid: number }[]>`
    select pid from pg_locks where locktype = 'advisory' and granted and database = (
      select oid from pg_database where datname = current_database())`;
  return rows.map((row) => row.pid);
}

describe('tryAcquireLeadership', () => {
  it('grants one lease per key until it is released', async () => {
    const lease = await tryAcquireLeadership(database.dedicatedConnection(), 'role.a');
    expect(lease).toBeDefined();
    expect(await tryAcquireLeadership(database.dedicatedConnection(), 'role.a')).toBeUndefined();
    // Other keys are independent.
    const other = await tryAcquireLeadership(database.dedicatedConnection(), 'role.b');
    expect(other).toBeDefined();

    await lease!.release();
    expect(lease!.signal.aborted).toBe(true);
    const next = await tryAcquireLeadership(database.dedicatedConnection(), 'role.a');
    expect(next).toBeDefined();
    await next!.release();
    await other!.release();
    expect(await advisoryLockHolders()).toEqual([]);
  });

  it('reports loss when its session dies, freeing the role for another replica', async () => {
    const lost: unknown[] = [];
    const lease = await tryAcquireLeadership(database.dedicatedConnection(), 'role.c', {
      heartbeatIntervalMs: 100,
      onLost: (reason) => lost.push(reason),
    });
    expect(lease).toBeDefined();
    const [holder] = await advisoryLockHolders();
    await database.sql`select pg_terminate_backend(${holder!})`;

    await expect.poll(() => lease!.signal.aborted, { timeout: 2_000 }).toBe(true);
    expect(lost).toHaveLength(1);
    const successor = await tryAcquireLeadership(database.dedicatedConnection(), 'role.c');
    expect(successor).toBeDefined();
    await successor!.release();
    await lease!.release();
  });
});
