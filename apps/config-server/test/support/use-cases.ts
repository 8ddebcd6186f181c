import { configRules, randomUuids, systemClock } from '@k1s0/config-domain';
import { createLogger, type Database, runMigrations } from '@k1s0/platform';
import { LruConfigCache } from '../../src/cache/lru-config-cache.js';
import { PostgresChangeFeed } from '../../src/feed/postgres-change-feed.js';
import { PostgresChangeLogRepository } from '../../src/persistence/postgres-change-log-repository.js';
import { PostgresConfigRepository } from '../../src/persistence/postgres-config-repository.js';
import type { PostgresConfigWriter } from '../../src/persistence/postgres-config-writer.js';
import { configServerService } from '../../src/service.js';
import { type ConfigServerUseCases, createUseCases } from '../../src/use-cases.js';

/** Applies config-server's migrations to a test database. */
export function migrateConfigServer(database: Database): Promise<void> {
  return runMigrations(database, {
    migrationsFolder: configServerService.migrations.folder,
    migrationsSchema: 'config_server',
    migrationsTable: '__drizzle_migrations',
  });
}

/**
 * The use cases over the real PostgreSQL adapters, as service.ts assembles them, without the
 * service around them. The change feed is not started: nothing here watches or relies on NOTIFY,
 * so each assembly invalidates only its own cache, on its own writes.
 */
export function realUseCases(
  database: Database,
  adapters: { writer: PostgresConfigWriter; repository?: PostgresConfigRepository; cache?: LruConfigCache },
): { useCases: ConfigServerUseCases; cache: LruConfigCache } {
  const changeLog = new PostgresChangeLogRepository(database);
  const cache = adapters.cache ?? new LruConfigCache({ maxEntries: 100, ttlMs: 600_000 });
  const useCases = createUseCases({
    repository: adapters.repository ?? new PostgresConfigRepository(database),
    writer: adapters.writer,
    changeLog,
    cache,
    feed: new PostgresChangeFeed({
      database,
      changeLog,
      cache,
      logger: createLogger({ name: 'use-cases', level: 'silent' }),
      pollIntervalMs: 60_000,
    }),
    clock: systemClock,
    ids: randomUuids,
    rules: configRules({}),
    appEnv: 'dev',
  });
  return { useCases, cache };
}
