import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  type Database,
  isUniqueViolation,
  runMigrations,
  toAppError,
  withTransaction,
} from '../src/db/index.js';
import { AppError } from '../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';
import { notes } from './fixtures/schema.js';

const migrations = {
  migrationsFolder: fileURLToPath(new URL('./fixtures/migrations', import.meta.url)),
  migrationsSchema: 'drizzle',
  migrationsTable: '__platform_test_migrations',
};

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 4, applicationName: 'platform-db-test' });
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

describe('runMigrations', () => {
  it('applies the migrations once, even when run concurrently and again later', async () => {
    const replica = createDatabase({ url: testDb.url, max: 1 });
    try {
      await Promise.all([runMigrations(database, migrations), runMigrations(replica, migrations)]);
      await runMigrations(database, migrations);
    } finally {
      await replica.close();
    }
    const applied = await database.sql`select count(*)::int as n from drizzle.__platform_test_migrations`;
    expect(applied[0]?.n).toBe(1);
    const tables = await database.sql`
      select table_name from information_schema.tables where table_schema = 'platform_test' order by 1`;
    expect(tables.map((row) => row.table_name)).toEqual(['notes', 'outbox']);
  });
});

describe('withTransaction', () => {
  beforeAll(() => runMigrations(database, migrations));

  it('commits when the callback resolves', async () => {
    const id = await withTransaction(database, async (tx) => {
      const [row] = await tx.insert(notes).values({ body: 'kept' }).returning();
      return row!.id;
    });
    expect(await database.db.select().from(notes).where(eq(notes.id, id))).toHaveLength(1);
  });

  it('rolls back and rethrows when the callback throws', async () => {
    const failure = new Error('use case failed');
    await expect(
      withTransaction(database, async (tx) => {
        await tx.insert(notes).values({ body: 'discarded' });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await database.db.select().from(notes).where(eq(notes.body, 'discarded'))).toHaveLength(0);
  });

  it('leaves constraint violations to the caller (not mapped to an AppError)', async () => {
    const error = await withTransaction(database, async (tx) => {
      await tx.insert(notes).values({ id: 1_000, body: 'first' });
      await tx.insert(notes).values({ id: 1_000, body: 'duplicate' });
    }).catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(AppError);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(error, 'notes_pkey')).toBe(true);
    expect(isUniqueViolation(error, 'other_constraint')).toBe(false);
    expect(toAppError(error).kind).toBe('internal');
  });

  it('exposes raw SQL in the same transaction through tx.execute', async () => {
    const inside = await withTransaction(database, async (tx) => {
      await tx.insert(notes).values({ body: 'visible inside' });
      const rows = await tx.execute<{ n: number }>(
        sql`select count(*)::int as n from ${notes} where ${notes.body} = 'visible inside'`,
      );
      return rows[0]?.n;
    });
    expect(inside).toBe(1);
  });
});

describe('unavailable database', () => {
  it('maps an unreachable server to AppError(unavailable) for ping and transactions', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const dead = createDatabase({ url: 'postgres://u:p@127.0.0.1:1/none', max: 1, connectTimeoutMs: 1_000 });
    try {
      const pinged = await dead.ping().catch((caught: unknown) => caught);
      expect(pinged).toBeInstanceOf(AppError);
      expect(pinged).toMatchObject({ kind: 'unavailable', code: 'UNAVAILABLE' });
      const tx = await withTransaction(dead, async () => 1).catch((caught: unknown) => caught);
      expect(tx).toMatchObject({ kind: 'unavailable' });
    } finally {
      await dead.close();
    }
  });

  it('maps a session terminated by the server (admin shutdown) to unavailable', async () => {
    const victim = createDatabase({ url: testDb.url, max: 1 });
    try {
      const [{ pid }] = (await victim.sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
      const sleeping = victim.sql`select pg_sleep(10)`.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      // Wait until the victim's query is running, then terminate its session.
      await expect
        .poll(
          async () => (await database.sql`select state from pg_stat_activity where pid = ${pid}`)[0]?.state,
          {
            timeout: 3_000,
          },
        )
        .toBe('active');
      await database.sql`select pg_terminate_backend(${pid})`;
      // postgres.js reports the FATAL 57P01 as the connection closing under the query.
      const error = await sleeping;
      expect(error).toBeInstanceOf(Error);
      expect(toAppError(error)).toMatchObject({ kind: 'unavailable' });
    } finally {
      // postgres.js never settles a graceful end() on a connection the server killed.
      await victim.close(0);
    }
  });

  it('passes AppErrors through toAppError unchanged', () => {
    const original = new AppError('not_found', { code: 'KEY_NOT_FOUND', message: 'missing' });
    expect(toAppError(original)).toBe(original);
  });
});
