import { bigint, customType, jsonb, type PgSchema, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

/** bytea ⇄ Uint8Array (drizzle-orm 0.45 has no built-in bytea column). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  fromDriver: (value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
});

/**
 * The transactional outbox, one per service schema: use cases insert a row in the same
 * transaction as the change it announces; the relay publishes rows in `id` order and deletes
 * them once the broker acknowledged. Put the table in the app's drizzle schema file so
 * drizzle-kit generates its migration: `export const outbox = outboxTable(mySchema)`.
 */
export function outboxTable(schema: PgSchema | string) {
  const owner = typeof schema === 'string' ? pgSchema(schema) : schema;
  return owner.table('outbox', {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    topic: text('topic').notNull(),
    key: text('key').notNull(),
    value: bytea('value').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  });
}

export type OutboxTable = ReturnType<typeof outboxTable>;

/**
 * Outbox rows the broker rejected for good (relay dead letters, issue 10): the row as it was, with
 * the broker's reason, so the relay can move on and an operator can inspect or re-send it. Put it
 * next to the outbox in the app's drizzle schema: `outboxDeadLetterTable(mySchema)`.
 */
export function outboxDeadLetterTable(schema: PgSchema | string) {
  const owner = typeof schema === 'string' ? pgSchema(schema) : schema;
  return owner.table('outbox_dead_letters', {
    /** The outbox row's id. */
    id: bigint('id', { mode: 'bigint' }).primaryKey(),
    topic: text('topic').notNull(),
    key: text('key').notNull(),
    value: bytea('value').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    /** Broker error id, e.g. MESSAGE_TOO_LARGE. */
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    deadLetteredAt: timestamp('dead_lettered_at', { withTimezone: true }).notNull().defaultNow(),
  });
}

export type OutboxDeadLetterTable = ReturnType<typeof outboxDeadLetterTable>;
