import { fileURLToPath } from 'node:url';
import { createDatabase, type Database, runMigrations } from '@k1s0/platform';
import { createTestDatabase, type TestDatabase } from '@k1s0/platform/testing';

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface MigratedDatabase {
  testDb: TestDatabase;
  database: Database;
  close(): Promise<void>;
}

/** A fresh database with the event-store migrations applied, for adapter-level tests. */
export async function migratedDatabase(max = 10): Promise<MigratedDatabase> {
  const testDb = await createTestDatabase();
  const database = createDatabase({ url: testDb.url, max });
  await runMigrations(database, {
    migrationsFolder,
    migrationsSchema: 'event_store',
    migrationsTable: '__drizzle_migrations',
  });
  return {
    testDb,
    database,
    async close() {
      await database.close(1);
      await testDb.drop();
    },
  };
}
