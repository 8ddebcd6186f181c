import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { toAppError } from './errors.js';

export interface DatabaseOptions {
  url: string;
  /** Pool size. Session-bound helpers (leader lease, LISTEN) use their own connections on top. */
  max: number;
  /** Close pooled connections idle this long (default 30 s). */
  idleTimeoutSec?: number;
  /** Give up connecting after this long (default 5 s) so a dead database fails fast as `unavailable`. */
  connectTimeoutMs?: number;
  applicationName?: string;
  /** Server-side `statement_timeout` of every session, ms (0 = none). Default 10 s. */
  statementTimeoutMs?: number;
  /** Server-side `idle_in_transaction_session_timeout`, ms (0 = none). Default 30 s. */
  idleInTransactionTimeoutMs?: number;
  /** Longest wait before reconnecting after failed connections, ms. Default 500. */
  reconnectBackoffMaxMs?: number;
}

export interface Database {
  /** The postgres.js pool, for raw SQL and LISTEN/NOTIFY. */
  sql: postgres.Sql;
  /** drizzle over the same pool. */
  db: PostgresJsDatabase;
  /**
   * A new single-connection client with the same settings that is never idle- or
   * lifetime-closed: for session state such as advisory locks. The caller ends it.
   */
  dedicatedConnection(): postgres.Sql;
  /** Round trip to the server; throws AppError('unavailable') when it cannot be reached. */
  ping(): Promise<void>;
  /** Waits up to `timeoutSec` (default 5) for running queries, then closes every connection. */
  close(timeoutSec?: number): Promise<void>;
}

export function createDatabase(options: DatabaseOptions): Database {
  const backoffMaxSec = (options.reconnectBackoffMaxMs ?? 500) / 1000;
  const base: postgres.Options<Record<string, postgres.PostgresType>> = {
    // postgres.js takes seconds (fractions allowed).
    connect_timeout: (options.connectTimeoutMs ?? 5_000) / 1000,
    connection: {
      application_name: options.applicationName ?? 'k1s0',
      // Timestamps read as text (event-store's wire timestamps) are ISO whatever the server's default.
      DateStyle: 'ISO, MDY',
      // A statement (or an abandoned transaction) never holds a connection longer than this, so a
      // hung query cannot keep requests waiting for the pool (issue 10 finding 8).
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 30_000,
    },
    // postgres.js delays a reconnect by up to 20 s (3^n / 100 s, n = failed connections so far, shared
    // by the pool) and a query waits for it: during an outage requests hung 9-12 s. Capped, so a
    // request fails within connect_timeout and the pool comes back within the cap of recovery.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, backoffMaxSec),
    // NOTICEs ("schema already exists, skipping" …) are not application events.
    onnotice: () => {},
  };
  const sql = postgres(options.url, {
    ...base,
    max: options.max,
    idle_timeout: options.idleTimeoutSec ?? 30,
  });
  const db = drizzle({ client: sql });
  return {
    sql,
    db,
    dedicatedConnection: () =>
      postgres(options.url, { ...base, max: 1, idle_timeout: 0, max_lifetime: null }),
    async ping() {
      try {
        await sql`select 1`;
      } catch (error) {
        throw toAppError(error);
      }
    },
    async close(timeoutSec = 5) {
      await sql.end({ timeout: timeoutSec });
    },
  };
}
