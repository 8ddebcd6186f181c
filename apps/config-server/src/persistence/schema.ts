import type { ConfigMetadata, ConfigValue } from '@k1s0/config-domain';
import {
  apiKeysTable,
  auditLogsTable,
  type OrderedLogSpec,
  outboxDeadLetterTable,
  outboxTable,
  xid8,
} from '@k1s0/platform';
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  unique,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

/** Everything the config server stores lives in this schema (migrations bookkeeping included). */
export const configServerSchema = pgSchema('config_server');

/** Table and indexes of design 000 ("データベースマイグレーション"). */
export const configEntries = configServerSchema.table(
  'config_entries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    namespace: varchar('namespace', { length: 255 }).notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    value: jsonb('value').$type<ConfigValue>().notNull(),
    version: integer('version').notNull().default(1),
    description: text('description').notNull().default(''),
    createdBy: varchar('created_by', { length: 255 }).notNull(),
    updatedBy: varchar('updated_by', { length: 255 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** SPEC §8: `value` then holds the sealed envelope (a JSON string), never the plaintext. */
    secret: boolean('secret').notNull().default(false),
    /** SPEC §8 free-form labels (a JSON object), NULL when none. */
    metadata: jsonb('metadata').$type<ConfigMetadata>(),
  },
  (t) => [
    unique('uq_config_entries_namespace_key').on(t.namespace, t.key),
    // Start-up key check and rewrap read only secret rows.
    index('idx_config_entries_secret').on(t.id).where(sql`${t.secret}`),
    index('idx_config_entries_namespace').on(t.namespace),
    index('idx_config_entries_key').on(t.key),
    index('idx_config_entries_updated_at').on(t.updatedAt.desc()),
    index('idx_config_entries_namespace_prefix').using('btree', t.namespace.op('varchar_pattern_ops')),
  ],
);

/** Sequence numbering config_change_logs.revision (drawn through the ordered-log function). */
export const configRevisionSeq = configServerSchema.sequence('config_change_logs_revision_seq');

/**
 * Design 000's change log, extended with `revision` (global, gap-tolerant, visible in order; see
 * ordered-log in @k1s0/platform) and `tx_id` (the writing transaction, for the safe-horizon read).
 */
export const configChangeLogs = configServerSchema.table(
  'config_change_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    revision: bigint('revision', { mode: 'bigint' }).notNull(),
    txId: xid8('tx_id').notNull(),
    configEntryId: uuid('config_entry_id').notNull(),
    namespace: varchar('namespace', { length: 255 }).notNull(),
    key: varchar('key', { length: 255 }).notNull(),
    oldValue: jsonb('old_value').$type<ConfigValue>(),
    newValue: jsonb('new_value').$type<ConfigValue>(),
    oldVersion: integer('old_version').notNull().default(0),
    newVersion: integer('new_version').notNull(),
    changeType: varchar('change_type', { length: 20 }).notNull(),
    changedBy: varchar('changed_by', { length: 255 }).notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
    /** Both values are sealed envelopes (JSON strings) of a secret entry. */
    secret: boolean('secret').notNull().default(false),
  },
  (t) => [
    unique('uq_config_change_logs_revision').on(t.revision),
    index('idx_config_change_logs_secret').on(t.id).where(sql`${t.secret}`),
    check('config_change_logs_change_type_check', sql`${t.changeType} IN ('CREATED', 'UPDATED', 'DELETED')`),
    index('idx_config_change_logs_config_entry_id').on(t.configEntryId),
    index('idx_config_change_logs_namespace').on(t.namespace),
    index('idx_config_change_logs_changed_at').on(t.changedAt.desc()),
    index('idx_config_change_logs_changed_by').on(t.changedBy),
    index('idx_config_change_logs_change_type').on(t.changeType),
    index('idx_config_change_logs_entry_changed').on(t.configEntryId, t.changedAt.desc()),
    // History of one key (across deletes/re-creations), newest first.
    index('idx_config_change_logs_ns_key_revision').on(t.namespace, t.key, t.revision.desc()),
  ],
);

/**
 * Highest revision removed by change-log retention (one row, id = 1; absent = nothing pruned).
 * WatchConfig compares `from_revision` with it to tell a client that its history is gone.
 */
export const changeLogRetention = configServerSchema.table('change_log_retention', {
  id: integer('id').primaryKey(),
  prunedThroughRevision: bigint('pruned_through_revision', { mode: 'bigint' }).notNull(),
});

/** Transactional outbox (ConfigChangedEvent rows for Kafka). */
export const configOutbox = outboxTable(configServerSchema);

/** API keys and the audit trail of this service (SPEC §8; platform apikeys/, audit/). */
export const configApiKeys = apiKeysTable(configServerSchema);
export const configAuditLogs = auditLogsTable(configServerSchema);

/** Outbox rows the broker rejected for good (the relay moves on; issue 10). */
export const configOutboxDeadLetters = outboxDeadLetterTable(configServerSchema);

/** How revisions are drawn: first write of each change transaction (see orderedLogFunctionSql). */
export const revisionLog: OrderedLogSpec = {
  schema: 'config_server',
  functionName: 'allocate_revisions',
  sequence: 'config_server.config_change_logs_revision_seq',
  // Fixed, unique per ordered log in the cluster (event-store uses its own key).
  lockKey: 587_000_001,
};
