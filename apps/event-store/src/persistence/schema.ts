import { apiKeysTable, auditLogsTable, xid8 } from '@k1s0/platform';
import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

export const eventStoreSchema = pgSchema('event_store');

export const eventStreams = eventStoreSchema.table('event_streams', {
  id: text('id').primaryKey(),
  aggregateType: text('aggregate_type').notNull(),
  currentVersion: bigint('current_version', { mode: 'number' }).notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Append-only (triggers in the custom migration). `sequence` is drawn with `tx_id` through the
 * ordered-log allocator (see ./ordered-log.ts); the identity default only serves manual inserts.
 */
export const events = eventStoreSchema.table(
  'events',
  {
    sequence: bigint('sequence', { mode: 'bigint' })
      .primaryKey()
      .generatedByDefaultAsIdentity({ name: 'events_sequence_seq' }),
    txId: xid8('tx_id').notNull(),
    streamId: text('stream_id')
      .notNull()
      .references(() => eventStreams.id),
    eventId: uuid('event_id').notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * The event's protobuf `StoredEvent` without `sequence`, in base64, written by the append (see
     * ../wire/event-wire-body.ts): the gRPC reads send it as stored. Text, not bytea: PostgreSQL
     * prints text as it is, but spends a microsecond an event turning bytea into hex. Null for rows
     * written before it existed, which are encoded from the columns.
     */
    wireEvent: text('wire_event'),
    /**
     * The first release of the body (migration 0005): without `stored_at` too. Written by that
     * release only and read by none now (its rows are read from their columns); kept while
     * instances of that release may still be inserting, to be dropped by a later migration.
     */
    wireBody: text('wire_body'),
  },
  (t) => [
    unique('events_stream_version_key').on(t.streamId, t.version),
    unique('events_stream_event_id_key').on(t.streamId, t.eventId),
    // Global readers filter on the safe horizon; (sequence) is the PK, this covers event_type replays.
    index('idx_events_event_type_sequence').on(t.eventType, t.sequence),
  ],
);

export const snapshots = eventStoreSchema.table(
  'snapshots',
  {
    id: text('id').primaryKey(),
    streamId: text('stream_id')
      .notNull()
      .references(() => eventStreams.id),
    snapshotVersion: bigint('snapshot_version', { mode: 'number' }).notNull(),
    aggregateType: text('aggregate_type').notNull(),
    state: jsonb('state').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('idx_snapshots_stream_id').on(t.streamId, t.snapshotVersion.desc(), t.createdAt.desc())],
);

/** Audit trail of DeleteStream: who removed which stream and how much went with it. */
export const streamDeletions = eventStoreSchema.table(
  'stream_deletions',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    streamId: text('stream_id').notNull(),
    aggregateType: text('aggregate_type').notNull(),
    lastVersion: bigint('last_version', { mode: 'number' }).notNull(),
    deletedEvents: integer('deleted_events').notNull(),
    deletedSnapshots: integer('deleted_snapshots').notNull(),
    deletedBy: text('deleted_by').notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [index('idx_stream_deletions_stream_id').on(t.streamId)],
);

/** Durable position of a global-log consumer (the Kafka relay): the last sequence it handed off. */
export const relayCheckpoints = eventStoreSchema.table('relay_checkpoints', {
  name: text('name').primaryKey(),
  lastSequence: bigint('last_sequence', { mode: 'bigint' }).notNull(),
  /** Transaction id of that event, for diagnosis; null when the event is gone (stream deleted). */
  lastTxId: xid8('last_tx_id'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** API keys and the audit trail of this service (SPEC §8; platform apikeys/, audit/). */
export const eventStoreApiKeys = apiKeysTable(eventStoreSchema);
export const eventStoreAuditLogs = auditLogsTable(eventStoreSchema);

/**
 * Events a relay could not publish because the broker rejects them for good (e.g. larger than its
 * `message.max.bytes`): set aside here, with the broker's reason, so the relay moves on (issue 10).
 * The event itself stays in `events`; an operator can re-publish it once the cause is fixed.
 */
export const relayDeadLetters = eventStoreSchema.table(
  'relay_dead_letters',
  {
    /** The relay's checkpoint name, e.g. `kafka:<topic>`. */
    relay: text('relay').notNull(),
    sequence: bigint('sequence', { mode: 'bigint' }).notNull(),
    streamId: text('stream_id').notNull(),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    /** Broker error id, e.g. MESSAGE_TOO_LARGE. */
    reason: text('reason').notNull(),
    deadLetteredAt: timestamp('dead_lettered_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.relay, t.sequence] })],
);
