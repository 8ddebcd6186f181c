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

/** Outbox messages as parallel column arrays, for a multi-row statement (`unnest`). */
export interface OutboxMessageColumns {
  topics: string[];
  keys: string[];
  /** Base64 of each message's bytes: decode in SQL with `decode(value, 'base64')`. */
  values: string[];
  /** JSON text of each message's headers. */
  headers: string[];
}

/** Columns of `messages` in order (see outboxInsertRowsFragment). */
export function outboxMessageColumns(messages: readonly OutboxMessage[]): OutboxMessageColumns {
  const columns: OutboxMessageColumns = { topics: [], keys: [], values: [], headers: [] };
  for (const message of messages) {
    columns.topics.push(message.topic);
    columns.keys.push(message.key);
    columns.values.push(
      Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength).toString(
        'base64',
      ),
    );
    columns.headers.push(JSON.stringify(message.headers));
  }
  return columns;
}

/**
 * The multi-row form of outboxInsertFragment, for writers that commit a batch of changes in one
 * statement: `insert into <schema>.outbox … <rows>`, where `rows` is a SELECT yielding
 * `(topic text, key text, value bytea, headers jsonb)` in publication order (give it an ORDER BY:
 * rows are published in insertion, i.e. id, order). Typically it selects from the CTE of the
 * committed changes joined to `unnest` of outboxMessageColumns.
 */
export function outboxInsertRowsFragment(
  sql: postgres.Sql,
  table: OutboxTable,
  rows: postgres.PendingQuery<postgres.Row[]>,
): postgres.PendingQuery<postgres.Row[]> {
  const { schema, name } = getTableConfig(table);
  return sql`insert into ${sql(schema ?? 'public')}.${sql(name)} (topic, key, value, headers)
    ${rows}
    returning id`;
}
