import { getTableConfig } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { OutboxTable } from './outbox-table.js';
import type { OutboxMessage } from './publisher.js';

/** The LISTEN/NOTIFY channel announcing new rows of `table`: `<schema>_outbox`. */
export function outboxChannel(table: OutboxTable): string {
  const { schema, name } = getTableConfig(table);
  return `${schema ?? 'public'}_${name}`;
}

/**
 * An outbox row as a postgres.js statement fragment, for writers that put a whole change in ONE
 * statement (data-modifying CTEs): `insert into <schema>.outbox … select … from <source>`,
 * inserting one row per row of the CTE named `source` (zero rows when it is empty). Put it after
 * the writes the message describes: rows are published in insertion (id) order. The caller wakes
 * the relay once the statement has committed (`wakeUp(database, outboxChannel(table))`).
 */
export function outboxInsertFragment(
  sql: postgres.Sql,
  table: OutboxTable,
  message: OutboxMessage,
  source: string,
): postgres.PendingQuery<postgres.Row[]> {
  const { schema, name } = getTableConfig(table);
  const value = Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength);
  return sql`insert into ${sql(schema ?? 'public')}.${sql(name)} (topic, key, value, headers)
    select ${message.topic}::text, ${message.key}::text, ${value}::bytea, ${JSON.stringify(message.headers)}::jsonb
    from ${sql(source)}
    returning id`;
}
