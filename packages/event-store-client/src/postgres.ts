import type { Sql } from 'postgres';
import type { CheckpointStore } from './checkpoint.js';

export type { CheckpointStore } from './checkpoint.js';

export interface PostgresCheckpointOptions {
  /** A postgres.js client (the package is an optional peer dependency). */
  readonly sql: Sql;
  /** This subscriber's name: one row per name. */
  readonly name: string;
  /** Table (optionally schema-qualified, e.g. `app.k1s0_checkpoints`); created when missing. */
  readonly table?: string;
}

/**
 * A checkpoint row in the consumer's own PostgreSQL, so it can be saved in the same transaction
 * as the consumer's writes when it passes a transaction's `sql`.
 */
export async function postgresCheckpoint(options: PostgresCheckpointOptions): Promise<CheckpointStore> {
  const { sql, name } = options;
  // postgres.js quotes each dot-separated part of an identifier (schema.table).
  const table = sql(options.table ?? 'k1s0_event_checkpoints');
  await sql`
    create table if not exists ${table} (
      name text primary key,
      sequence bigint not null,
      updated_at timestamptz not null default now()
    )`;
  return {
    async load() {
      const rows = await sql<
        { sequence: string }[]
      >`select sequence::text from ${table} where name = ${name}`;
      return rows[0] === undefined ? undefined : Number(rows[0].sequence);
    },
    async save(sequence) {
      await sql`
        insert into ${table} (name, sequence) values (${name}, ${sequence})
        on conflict (name) do update set sequence = excluded.sequence, updated_at = now()`;
    },
  };
}
