import { getTableConfig } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { Tx } from '../db/transaction.js';
import { notifyAfterCommit } from '../db/wake-up.js';
import type { OutboxTable } from './outbox-table.js';
import type { OutboxMessage } from './publisher.js';

/** The LISTEN/NOTIFY channel announcing new rows of `table`: `<schema>_outbox`. */
export function outboxChannel(table: OutboxTable): string {
  const { schema, name } = getTableConfig(table);
  return `${schema ?? 'public'}_${name}`;
}

/**
 * Adds messages to the outbox inside the caller's transaction, and wakes the relay once it has
 * committed (notifyAfterCommit: coalesced, never for a rolled-back change).
 * Call it after the writes the messages describe: rows are published in insertion (id)
 * order, and writing last means a transaction that waited on another's row locks also gets
 * the later ids.
 */
export async function enqueueOutbox(
  tx: Tx,
  table: OutboxTable,
  messages: OutboxMessage | readonly OutboxMessage[],
  channel: string = outboxChannel(table),
): Promise<void> {
  const rows = Array.isArray(messages) ? messages : [messages as OutboxMessage];
  if (rows.length === 0) return;
  await tx
    .insert(table)
    .values(rows.map(({ topic, key, value, headers }) => ({ topic, key, value, headers })));
  await notifyAfterCommit(tx, channel);
}

/**
 * The same outbox row as a postgres.js statement fragment, for writers that put a whole change in
 * ONE statement (data-modifying CTEs): `insert into <schema>.outbox … select … from <source>`,
 * inserting one row per row of the CTE named `source` (zero rows when it is empty). The caller
 * still wakes the relay after commit (`wakeUp(database, outboxChannel(table))`).
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
