import type {
  ConfigEntry,
  ConfigMetadata,
  ConfigValue,
  PendingConfigChange,
  WriteResult,
} from '@k1s0/config-domain';
import {
  type GroupOutcome,
  type OutboxMessage,
  orderedLogAllocFragment,
  outboxInsertRowsFragment,
  outboxMessageColumns,
} from '@k1s0/platform';
import type postgres from 'postgres';
import { configOutbox, revisionLog } from './schema.js';

type Sql = postgres.Sql | postgres.TransactionSql;

/** A jsonb parameter as text: JSON, and SQL NULL for a null. */
export function jsonText(value: ConfigValue | ConfigMetadata | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/**
 * One ConfigWriter call, with everything that depends on the caller's context (secret sealing,
 * the outbox event with the request's correlation and trace ids) done at submit time, so that a
 * batch commit only moves prepared columns.
 *
 * The compare-and-set condition: `insert` — (namespace, key) absent; `update`/`remove` — the row
 * `id = targetId and version = expectedVersion` exists.
 */
export interface PreparedWrite {
  op: 'insert' | 'update' | 'remove';
  namespace: string;
  key: string;
  /** Entry id the write creates (insert) or must find (update, remove). */
  targetId: string;
  /** Version the row must have (update, remove); 0 for insert. */
  expectedVersion: number;
  /** The row written by insert/update (its `value` sealed when secret); undefined for remove. */
  next: StoredEntry | undefined;
  change: PendingConfigChange;
  oldValue: string | null;
  newValue: string | null;
  message: OutboxMessage;
  /** Bytes this write adds to a batch (for the batch's byte bound). */
  bytes: number;
}

/** An entry's columns as stored: value and metadata as JSON text. */
export interface StoredEntry {
  entry: ConfigEntry;
  value: string;
  metadata: string | null;
}

/** Key of the per-key transaction lock that orders batches of several instances (see writeBatch). */
export const configKeyLockName = (namespace: string, key: string) => `config_server:key:${namespace}/${key}`;

/** How a batch treats one of its writes before any SQL runs. */
export type WritePlan =
  /** Sent to the database as the first write of its key in this batch. */
  | { kind: 'write' }
  /** Same key and same condition as an earlier write of the batch: whether that one matches or not, this one cannot. */
  | { kind: 'conflict' }
  /** Same key, another condition: decided in the next batch, against what this one committed. */
  | { kind: 'deferred' };

function sameCondition(a: PreparedWrite, b: PreparedWrite): boolean {
  if (a.op === 'insert' || b.op === 'insert') return a.op === b.op;
  return a.targetId === b.targetId && a.expectedVersion === b.expectedVersion;
}

/**
 * One write per key per batch, so every statement of the batch touches a key at most once (data-
 * modifying CTEs of one statement do not see each other's rows). A later write of the same key
 * either tests the same condition as the first — then it fails whatever the first one does (the
 * first one either changes the row it tests, or finds it missing just as this one would) and is
 * answered `conflict` at once, which is what 19 of 20 racing writers of one version get — or
 * another one, and then it waits for the next batch and is decided against the first one's commit
 * (so it sees that version). The first write of a batch is always a `write` (GroupCommit progress).
 */
export function planBatch(batch: readonly PreparedWrite[]): WritePlan[] {
  const firstByKey = new Map<string, PreparedWrite>();
  return batch.map((write) => {
    const id = JSON.stringify([write.namespace, write.key]);
    const first = firstByKey.get(id);
    if (first === undefined) {
      firstByKey.set(id, write);
      return { kind: 'write' };
    }
    return sameCondition(first, write) ? { kind: 'conflict' } : { kind: 'deferred' };
  });
}

/** The columns of the writes sent in one statement; the i-th (1-based) gets the i-th allocated revision. */
function columns(writes: readonly PreparedWrite[]) {
  const entry = (write: PreparedWrite) => write.next?.entry;
  return {
    op: writes.map((w) => w.op),
    id: writes.map((w) => w.targetId),
    namespace: writes.map((w) => w.namespace),
    key: writes.map((w) => w.key),
    expected: writes.map((w) => w.expectedVersion),
    value: writes.map((w) => w.next?.value ?? null),
    version: writes.map((w) => entry(w)?.version ?? 0),
    description: writes.map((w) => entry(w)?.description ?? ''),
    createdBy: writes.map((w) => entry(w)?.createdBy ?? ''),
    updatedBy: writes.map((w) => entry(w)?.updatedBy ?? ''),
    createdAt: writes.map((w) => (entry(w)?.createdAt ?? w.change.changedAt).toISOString()),
    updatedAt: writes.map((w) => (entry(w)?.updatedAt ?? w.change.changedAt).toISOString()),
    // Booleans as text: postgres.js sends a boolean array as a scalar boolean parameter.
    secret: writes.map((w) => String(entry(w)?.secret ?? false)),
    metadata: writes.map((w) => w.next?.metadata ?? null),
    changeId: writes.map((w) => w.change.id),
    changeEntryId: writes.map((w) => w.change.configEntryId),
    oldValue: writes.map((w) => w.oldValue),
    newValue: writes.map((w) => w.newValue),
    oldVersion: writes.map((w) => w.change.oldVersion),
    newVersion: writes.map((w) => w.change.newVersion),
    changeType: writes.map((w) => w.change.changeType),
    changedBy: writes.map((w) => w.change.changedBy),
    changedAt: writes.map((w) => w.change.changedAt.toISOString()),
    changeSecret: writes.map((w) => String(w.change.secret)),
    ...outboxMessageColumns(writes.map((w) => w.message)),
  };
}

/**
 * ONE autocommit statement for a batch of compare-and-set writes (one transaction, one flush):
 *
 *   locks  — transaction advisory locks on every key of the batch, in lock-key order: two
 *            instances' batches that share keys queue on the first shared key instead of
 *            deadlocking on row and unique-index locks taken in different orders;
 *   alloc  — n revisions and the transaction id from the ordered-log function (platform
 *            db/ordered-log.ts), gated on `locks` (a one-time filter) and read by every write
 *            below before it writes, so it is the transaction's first write, as it requires;
 *   ins / upd / del — the compare-and-set writes of config_entries, multi-row;
 *   log    — one change-log row per write that matched, with its revision (batch order);
 *   outbox — one ConfigChangedEvent row per logged change, in revision order.
 *
 * A write that did not match writes nothing (its revision is a gap, which readers tolerate).
 * Returns the revision of each write that committed, by index into `writes`.
 */
export async function writeBatch(q: Sql, writes: readonly PreparedWrite[]): Promise<Map<number, bigint>> {
  const c = columns(writes);
  const lockNames = writes.map((w) => configKeyLockName(w.namespace, w.key));
  const rows = await q<{ i: string; revision: string }[]>`
    with locks as materialized (
      select pg_advisory_xact_lock(k) from (
        select distinct hashtextextended(name, 0) as k from unnest(${lockNames}::text[]) as name order by k
      ) as keys
    ), alloc as materialized (
      select * from (${orderedLogAllocFragment(q, revisionLog, writes.length)}) as drawn
      where (select count(*) from locks) >= 0
    ), w as materialized (
      select * from unnest(
        ${c.op}::text[], ${c.id}::uuid[], ${c.namespace}::text[], ${c.key}::text[], ${c.expected}::int[],
        ${c.value}::text[], ${c.version}::int[], ${c.description}::text[], ${c.createdBy}::text[],
        ${c.updatedBy}::text[], ${c.createdAt}::text[], ${c.updatedAt}::text[], ${c.secret}::text[],
        ${c.metadata}::text[], ${c.changeId}::uuid[], ${c.changeEntryId}::uuid[], ${c.oldValue}::text[], ${c.newValue}::text[],
        ${c.oldVersion}::int[], ${c.newVersion}::int[], ${c.changeType}::text[], ${c.changedBy}::text[],
        ${c.changedAt}::text[], ${c.changeSecret}::text[], ${c.topics}::text[], ${c.keys}::text[],
        ${c.values}::text[], ${c.headers}::text[]
      ) with ordinality as w(op, id, namespace, key, expected, value, version, description, created_by,
        updated_by, created_at, updated_at, secret, metadata, change_id, change_entry_id, old_value, new_value,
        old_version, new_version, change_type, changed_by, changed_at, change_secret,
        msg_topic, msg_key, msg_value, msg_headers, i)
    ), ins as (
      insert into config_server.config_entries
        (id, namespace, key, value, version, description, created_by, updated_by, created_at, updated_at,
         secret, metadata)
      select w.id, w.namespace, w.key, w.value::jsonb, w.version, w.description, w.created_by, w.updated_by,
        w.created_at::timestamptz, w.updated_at::timestamptz, w.secret::boolean, w.metadata::jsonb
      from w join alloc using (i)
      where w.op = 'insert'
      order by w.i
      on conflict (namespace, key) do nothing
      returning id
    ), upd as (
      update config_server.config_entries
      set namespace = w.namespace, key = w.key, value = w.value::jsonb, version = w.version,
        description = w.description, secret = w.secret::boolean, metadata = w.metadata::jsonb,
        updated_by = w.updated_by, updated_at = w.updated_at::timestamptz
      from w join alloc using (i)
      where w.op = 'update' and config_entries.id = w.id and config_entries.version = w.expected
      returning config_entries.id
    ), del as (
      delete from config_server.config_entries
      using w join alloc using (i)
      where w.op = 'remove' and config_entries.id = w.id and config_entries.version = w.expected
      returning config_entries.id
    ), applied as (
      select id from ins union all select id from upd union all select id from del
    ), log as (
      insert into config_server.config_change_logs
        (id, revision, tx_id, config_entry_id, namespace, key, old_value, new_value,
         old_version, new_version, change_type, changed_by, changed_at, secret)
      select w.change_id, alloc.seq, alloc.tx_id, w.change_entry_id, w.namespace, w.key, w.old_value::jsonb,
        w.new_value::jsonb, w.old_version, w.new_version, w.change_type, w.changed_by,
        w.changed_at::timestamptz, w.change_secret::boolean
      from w join alloc using (i) join applied on applied.id = w.id
      order by w.i
      returning id, revision
    ), outbox as (
      ${outboxInsertRowsFragment(
        q as postgres.Sql,
        configOutbox,
        q`select w.msg_topic, w.msg_key, decode(w.msg_value, 'base64'), w.msg_headers::jsonb
          from w join log on log.id = w.change_id order by w.i`,
      )}
    )
    select w.i::text as i, log.revision::text as revision from log join w on w.change_id = log.id`;
  return new Map(rows.map((row) => [Number(row.i) - 1, BigInt(row.revision)]));
}

/** Revisions of the changes (by id) that are in the change log: proof that their write committed. */
export async function committedChanges(q: Sql, changeIds: readonly string[]): Promise<Map<string, bigint>> {
  const rows = await q<{ id: string; revision: string }[]>`
    select id::text, revision::text from config_server.config_change_logs where id = any(${changeIds}::uuid[])`;
  return new Map(rows.map((row) => [row.id, BigInt(row.revision)]));
}

/** The write's answer once its batch committed (`revision` undefined: its condition did not match). */
export function writeOutcome(write: PreparedWrite, revision: bigint | undefined): GroupOutcome<WriteResult> {
  if (revision === undefined) return { kind: 'done', value: { outcome: 'conflict' } };
  return { kind: 'done', value: { outcome: 'committed', change: { ...write.change, revision } } };
}
