import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './database.js';
import { unavailableOrOriginal } from './errors.js';

export interface MigrationOptions {
  /** Folder drizzle-kit generated (SQL files + meta/_journal.json). */
  migrationsFolder: string;
  /** Schema of the bookkeeping table, e.g. the app's own schema. */
  migrationsSchema: string;
  migrationsTable: string;
}

/**
 * Applies pending drizzle-kit migrations. Replicas starting together serialize on a
 * session advisory lock (keyed by the bookkeeping table) held on a dedicated connection, so
 * the second one finds the work done; applying an up-to-date database is a no-op.
 */
export async function runMigrations(database: Database, options: MigrationOptions): Promise<void> {
  const lockKey = `migrations:${options.migrationsSchema}.${options.migrationsTable}`;
  const lockConnection = database.dedicatedConnection();
  try {
    // Waiting for another replica's migration may outlast database.statement_timeout.
    await lockConnection`set statement_timeout = 0`;
    await lockConnection`select pg_advisory_lock(hashtextextended(${lockKey}, 0))`;
    await migrate(database.db, options);
  } catch (error) {
    throw unavailableOrOriginal(error);
  } finally {
    // Ending the session releases the lock even if the unlock round trip is never made.
    await lockConnection.end({ timeout: 5 });
  }
}
