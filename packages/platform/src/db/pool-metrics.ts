import { Gauge, type Registry } from 'prom-client';
import type { Database } from './database.js';

/** Pool occupancy postgres.js reports (patches/postgres@3.4.9.patch adds `sql.poolStats()`). */
interface PoolStats {
  max: number;
  open: number;
  busy: number;
  full: number;
  reserved: number;
  connecting: number;
  waiting: number;
}

function poolStats(database: Database): PoolStats | undefined {
  const read = (database.sql as unknown as { poolStats?: () => PoolStats }).poolStats;
  return typeof read === 'function' ? read() : undefined;
}

/**
 * DB pool saturation gauges, read from the pool at scrape time (no cost per query):
 * `db_pool_max_connections`, `db_pool_connections_in_use` (running queries or reserved/in a
 * transaction), `db_pool_connections_open` and `db_pool_waiting_queries` (queued for a
 * connection). Saturation = in_use / max; waiting > 0 for long means the pool is too small.
 */
export function trackDatabasePool(registry: Registry, database: Database): void {
  const gauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = poolStats(database);
        if (stats) this.set(read(stats));
      },
    });
  gauge('db_pool_max_connections', 'Size of the PostgreSQL connection pool', (s) => s.max);
  gauge(
    'db_pool_connections_in_use',
    'Pool connections running queries, reserved or in a transaction',
    (s) => s.busy + s.full + s.reserved,
  );
  gauge(
    'db_pool_connections_open',
    'Pool connections established (idle or in use)',
    (s) => s.open + s.busy + s.full + s.reserved,
  );
  gauge('db_pool_waiting_queries', 'Queries queued for a free pool connection', (s) => s.waiting);
}
