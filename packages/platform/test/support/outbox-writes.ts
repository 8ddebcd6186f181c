import type { Database } from '../../src/db/database.js';
import { wakeUp } from '../../src/db/wake-up.js';
import {
  type OutboxMessage,
  type OutboxTable,
  outboxChannel,
  outboxInsertFragment,
} from '../../src/outbox/index.js';

/**
 * Writes `messages` to `table` the way the services do: one statement (hence one transaction) per
 * message around outboxInsertFragment, then a coalesced wake-up of the relay after the commits.
 */
export async function enqueue(database: Database, table: OutboxTable, messages: readonly OutboxMessage[]) {
  const { sql } = database;
  for (const message of messages) {
    await sql`with source as (select 1) ${outboxInsertFragment(sql, table, message, 'source')}`;
  }
  wakeUp(database, outboxChannel(table));
}
