import type {
  ConfigChange,
  ConfigEntry,
  ConfigMetadata,
  ConfigValue,
  ConfigWriter,
  PendingConfigChange,
  WriteResult,
} from '@k1s0/config-domain';
import {
  type Database,
  orderedLogAllocFragment,
  outboxChannel,
  outboxInsertFragment,
  unavailableOrOriginal,
  wakeUp,
} from '@k1s0/platform';
import type postgres from 'postgres';
import { configChangedMessage } from '../events/config-changed-event.js';
import { CHANGE_CHANNEL } from '../feed/change-notification.js';
import { configOutbox, revisionLog } from './schema.js';
import { SecretValues } from './secret-values.js';

export interface PostgresConfigWriterOptions {
  /** Kafka topic of ConfigChangedEvent (`kafka.topic_changed`). */
  topic: string;
}

type Fragment = postgres.PendingQuery<postgres.Row[]>;

// Timestamps go as ISO text: drizzle, sharing this postgres.js client, replaced its date serializers.

/** A jsonb parameter as drizzle writes one: JSON text, and SQL NULL for a null. */
function jsonText(value: ConfigValue | ConfigMetadata | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

const OUTBOX_CHANNEL = outboxChannel(configOutbox);

/**
 * ConfigWriter: each call is ONE SQL statement, hence one atomic transaction and one round trip:
 *
 *   alloc  — the revision and transaction id from the ordered-log function (platform
 *            db/ordered-log.ts). Every write below reads a row of `alloc` first, so the function
 *            runs before any of them and is the transaction's first write, as it requires (it
 *            raises otherwise).
 *   entry  — insert / compare-and-set update / compare-and-set delete of config_entries;
 *   log    — the change-log row, only if `entry` touched a row;
 *   outbox — the ConfigChangedEvent row (platform outboxInsertFragment), only if `log` was written
 *            (last, so rows are published in the order of the changes they describe).
 *
 * A compare-and-set miss writes nothing (the drawn revision is a gap, which readers tolerate).
 * After a commit, coalesced payload-free wake-ups go to the change feeds and the outbox relay.
 */
export class PostgresConfigWriter implements ConfigWriter {
  private readonly sql: postgres.Sql;

  constructor(
    private readonly database: Database,
    private readonly options: PostgresConfigWriterOptions,
    /** Without a cipher (the default) a secret write is refused: fails closed. */
    private readonly values: SecretValues = new SecretValues(undefined),
  ) {
    this.sql = database.sql;
  }

  insert(entry: ConfigEntry, change: PendingConfigChange, requestId: string): Promise<WriteResult> {
    const { sql } = this;
    return this.write(
      change,
      requestId,
      sql`insert into config_server.config_entries
            (id, namespace, key, value, version, description, created_by, updated_by, created_at, updated_at,
             secret, metadata)
          select ${entry.id}::uuid, ${entry.namespace}::text, ${entry.key}::text,
            ${this.storedValue(entry)}::jsonb, ${entry.version}::int, ${entry.description}::text,
            ${entry.createdBy}::text, ${entry.updatedBy}::text, ${entry.createdAt.toISOString()}::timestamptz,
            ${entry.updatedAt.toISOString()}::timestamptz, ${entry.secret}::boolean, ${jsonText(entry.metadata)}::jsonb
          from alloc
          on conflict (namespace, key) do nothing
          returning id`,
    );
  }

  update(
    next: ConfigEntry,
    expectedVersion: number,
    change: PendingConfigChange,
    requestId: string,
  ): Promise<WriteResult> {
    const { sql } = this;
    return this.write(
      change,
      requestId,
      sql`update config_server.config_entries
          set namespace = ${next.namespace}, key = ${next.key}, value = ${this.storedValue(next)}::jsonb,
            version = ${next.version}, description = ${next.description}, secret = ${next.secret}::boolean,
            metadata = ${jsonText(next.metadata)}::jsonb,
            updated_by = ${next.updatedBy}, updated_at = ${next.updatedAt.toISOString()}::timestamptz
          from alloc
          where config_entries.id = ${next.id} and config_entries.version = ${expectedVersion}
          returning config_entries.id`,
    );
  }

  remove(current: ConfigEntry, change: PendingConfigChange, requestId: string): Promise<WriteResult> {
    const { sql } = this;
    return this.write(
      change,
      requestId,
      sql`delete from config_server.config_entries
          using alloc
          where config_entries.id = ${current.id} and config_entries.version = ${current.version}
          returning config_entries.id`,
    );
  }

  /** The entry's value column: sealed when the entry is secret. */
  private storedValue(entry: ConfigEntry): string | null {
    return jsonText(this.values.toStored(entry.value, entry.secret, entry.namespace, entry.key));
  }

  /** A change-log value column: sealed when the change is secret. */
  private storedChangeValue(change: PendingConfigChange, value: ConfigValue | null): string | null {
    return jsonText(this.values.toStored(value, change.secret, change.namespace, change.key));
  }

  private async write(
    pending: PendingConfigChange,
    requestId: string,
    applyEntry: Fragment,
  ): Promise<WriteResult> {
    const { sql } = this;
    // The event carries no revision, so it is encoded before the revision is drawn.
    const message = configChangedMessage(pending, this.options.topic, { correlationId: requestId });
    let rows: { revision: string | null }[];
    try {
      rows = await sql<{ revision: string | null }[]>`
        with alloc as materialized (
          ${orderedLogAllocFragment(sql, revisionLog, 1)}
        ), entry as (
          ${applyEntry}
        ), log as (
          insert into config_server.config_change_logs
            (id, revision, tx_id, config_entry_id, namespace, key, old_value, new_value,
             old_version, new_version, change_type, changed_by, changed_at, secret)
          select ${pending.id}::uuid, alloc.seq, alloc.tx_id, ${pending.configEntryId}::uuid,
            ${pending.namespace}::text, ${pending.key}::text, ${this.storedChangeValue(pending, pending.oldValue)}::jsonb,
            ${this.storedChangeValue(pending, pending.newValue)}::jsonb, ${pending.oldVersion}::int, ${pending.newVersion}::int,
            ${pending.changeType}::text, ${pending.changedBy}::text, ${pending.changedAt.toISOString()}::timestamptz,
            ${pending.secret}::boolean
          from alloc cross join entry
          returning revision
        ), outbox as (
          ${outboxInsertFragment(sql, configOutbox, message, 'log')}
        )
        select (select revision::text from log) as revision, (select count(*) from outbox) as outboxed`;
    } catch (error) {
      throw unavailableOrOriginal(error);
    }
    const revision = rows[0]?.revision;
    if (revision === null || revision === undefined) return { outcome: 'conflict' };
    wakeUp(this.database, CHANGE_CHANNEL);
    wakeUp(this.database, OUTBOX_CHANNEL);
    const change: ConfigChange = { ...pending, revision: BigInt(revision) };
    return { outcome: 'committed', change };
  }
}
