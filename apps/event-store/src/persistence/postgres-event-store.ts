import {
  type AppendOutcome,
  type AppendRequest,
  type DeletedStream,
  decideAppend,
  type EventStore,
  type EventStream,
  type GlobalLogBatch,
  type GlobalLogQuery,
  type StoredEvent,
  type StreamDeletion,
  type StreamPage,
  type StreamReadQuery,
} from '@k1s0/eventstore-domain';
import {
  belowSafeHorizon,
  type Database,
  isUniqueViolation,
  type Tx,
  unavailableOrOriginal,
  wakeUp,
  withTransaction,
} from '@k1s0/platform';
import { and, asc, count, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import {
  RAW_STORED_EVENT_COLUMNS,
  type RawStoredEventRow,
  storedEventColumns,
  storedEventFromRaw,
  toStoredEvent,
} from './event-rows.js';
import { APPENDED_CHANNEL } from './new-events-signal.js';
import { eventsLog } from './ordered-log.js';
import { eventStreams, events, snapshots, streamDeletions } from './schema.js';

/** A unique violation can only come from a writer that raced past the stream lock; a few retries settle it. */
const MAX_APPEND_ATTEMPTS = 5;

const safeHorizon = belowSafeHorizon(sql.raw('"tx_id"'));

/** Key of the per-stream transaction lock: serialises appends (and deletes) of one stream, even before its row exists. */
const streamLockKey = (streamId: string) => `event_store:stream:${streamId}`;

async function lockStream(tx: Tx, streamId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${streamLockKey(streamId)}, 0))`);
}

function toEventStream(row: typeof eventStreams.$inferSelect): EventStream {
  return {
    id: row.id,
    aggregateType: row.aggregateType,
    currentVersion: Number(row.currentVersion),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The EventStore port on PostgreSQL (schema `event_store`), following the port's doc comments step by step. */
export class PostgresEventStore implements EventStore {
  constructor(private readonly database: Database) {}

  async getStream(streamId: string): Promise<EventStream | null> {
    const [row] = await this.run(() =>
      this.database.db.select().from(eventStreams).where(eq(eventStreams.id, streamId)),
    );
    return row ? toEventStream(row) : null;
  }

  async append(request: AppendRequest): Promise<AppendOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.database.sql.begin((tx) => this.appendOnce(tx, request));
        // After commit, coalesced: wakes SubscribeAll streams and the relay on every instance.
        if (outcome.kind === 'appended') wakeUp(this.database, APPENDED_CHANNEL);
        return outcome;
      } catch (error) {
        if (attempt < MAX_APPEND_ATTEMPTS && isUniqueViolation(error)) continue;
        throw unavailableOrOriginal(error);
      }
    }
  }

  /**
   * Four round trips: BEGIN; lock + reads (pipelined); one statement that allocates and writes;
   * COMMIT. Raw postgres.js: drizzle's query building cost more CPU than the database work here.
   */
  private async appendOnce(tx: postgres.TransactionSql, request: AppendRequest): Promise<AppendOutcome> {
    const { streamId } = request;
    const eventIds = request.events.map((event) => event.eventId);
    // Sent together; PostgreSQL runs them in order and (READ COMMITTED) each SELECT takes its snapshot
    // once the lock is held. Advisory locks and plain SELECTs assign no transaction id, so the
    // allocation below is still the transaction's first write.
    const [, streamRows, storedRows] = await Promise.all([
      tx`select pg_advisory_xact_lock(hashtextextended(${streamLockKey(streamId)}, 0))`,
      tx<{ current_version: string }[]>`
        select current_version::text as current_version from event_store.event_streams where id = ${streamId}`,
      tx<RawStoredEventRow[]>`
        select ${tx.unsafe(RAW_STORED_EVENT_COLUMNS)} from event_store.events
        where stream_id = ${streamId} and event_id = any(${eventIds}::uuid[])`,
    ]);
    const stream = streamRows[0];
    const decision = decideAppend(request.expectedVersion, eventIds, {
      stream: stream ? { currentVersion: Number(stream.current_version) } : null,
      alreadyStored: storedRows.map(storedEventFromRaw),
    });
    if (decision.kind !== 'append') return decision;

    const inserted = await tx<RawStoredEventRow[]>`
      with alloc as materialized (
        -- The ordered-log allocator (platform db/ordered-log.ts): both writes below read its rows
        -- first, so it runs before them, as the transaction's first write (it raises otherwise).
        select tx_id, seq, row_number() over (order by seq) as i
        from ${tx(eventsLog.schema)}.${tx(eventsLog.functionName)}(${request.events.length}::int)
      ), stream as (
        insert into event_store.event_streams (id, aggregate_type, current_version)
        select ${streamId}::text, ${request.aggregateType}::text, ${decision.currentVersion}::bigint
        from alloc where i = 1
        on conflict (id) do update set current_version = excluded.current_version, updated_at = now()
        returning id
      ), inserted as (
        insert into event_store.events
          (sequence, tx_id, stream_id, event_id, version, event_type, payload, metadata, occurred_at)
        select alloc.seq, alloc.tx_id, stream.id, e.event_id, ${decision.firstVersion}::bigint + e.i - 1,
          e.event_type, e.payload::jsonb, e.metadata::jsonb, e.occurred_at::timestamptz
        from unnest(
          ${eventIds}::uuid[],
          ${request.events.map((event) => event.eventType)}::text[],
          ${request.events.map((event) => JSON.stringify(event.payload))}::text[],
          ${request.events.map((event) => JSON.stringify(event.metadata))}::text[],
          ${request.events.map((event) => event.occurredAt.toISOString())}::text[]
        ) with ordinality as e(event_id, event_type, payload, metadata, occurred_at, i)
        join alloc using (i)
        cross join stream
        returning ${tx.unsafe(RAW_STORED_EVENT_COLUMNS)}
      )
      select * from inserted order by version::bigint`;
    return {
      kind: 'appended',
      events: inserted.map(storedEventFromRaw),
      currentVersion: decision.currentVersion,
    };
  }

  async readStream(streamId: string, query: StreamReadQuery): Promise<StreamPage | null> {
    // One snapshot for the stream row, the count and the page, so they agree with each other.
    return this.run(() =>
      this.database.db.transaction(
        async (tx) => {
          const [stream] = await tx.select().from(eventStreams).where(eq(eventStreams.id, streamId));
          if (!stream) return null;
          const filters: SQL[] = [eq(events.streamId, streamId), gte(events.version, query.fromVersion)];
          if (query.toVersion !== undefined) filters.push(lte(events.version, query.toVersion));
          if (query.eventType !== undefined) filters.push(eq(events.eventType, query.eventType));
          const where = and(...filters);
          const [total] = await tx.select({ n: count() }).from(events).where(where);
          const rows = await tx
            .select(storedEventColumns)
            .from(events)
            .where(where)
            .orderBy(asc(events.version))
            .offset(query.offset)
            .limit(query.limit);
          return { stream: toEventStream(stream), events: rows.map(toStoredEvent), total: total?.n ?? 0 };
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      ),
    );
  }

  async readBySequence(sequence: bigint): Promise<StoredEvent | null> {
    const [row] = await this.run(() =>
      this.database.db.select(storedEventColumns).from(events).where(eq(events.sequence, sequence)),
    );
    return row ? toStoredEvent(row) : null;
  }

  async readAll(query: GlobalLogQuery): Promise<GlobalLogBatch> {
    const filters: SQL[] = [gte(events.sequence, query.fromSequence), safeHorizon];
    if (query.eventTypes.length > 0) filters.push(inArray(events.eventType, [...query.eventTypes]));
    // Repeatable read: the batch and the horizon bound below see the same snapshot.
    return this.run(() =>
      this.database.db.transaction(
        async (tx) => {
          const rows = await tx
            .select(storedEventColumns)
            .from(events)
            .where(and(...filters))
            .orderBy(asc(events.sequence))
            .limit(query.limit);
          const batch = rows.map(toStoredEvent);
          const last = batch[batch.length - 1];
          let next = last ? last.sequence + 1n : query.fromSequence;
          if (batch.length < query.limit) {
            // A short batch scanned every final event: move past filtered-out (or deleted) ones too.
            // Allocation makes sequence order equal tx order, so nothing can still appear below this max.
            const [horizon] = await tx
              .select({ max: sql<string | null>`max(${events.sequence})::text` })
              .from(events)
              .where(safeHorizon);
            if (horizon?.max != null && BigInt(horizon.max) + 1n > next) next = BigInt(horizon.max) + 1n;
          }
          return { events: batch, nextSequence: next };
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      ),
    );
  }

  async deleteStream(streamId: string, deletion: StreamDeletion): Promise<DeletedStream | null> {
    return withTransaction(this.database, async (tx) => {
      await lockStream(tx, streamId);
      const [stream] = await tx.select().from(eventStreams).where(eq(eventStreams.id, streamId));
      if (!stream) return null;
      // The append-only trigger lets this transaction, and only it, delete events.
      await tx.execute(sql`select set_config('event_store.allow_delete', 'on', true)`);
      const deletedEvents = await tx
        .delete(events)
        .where(eq(events.streamId, streamId))
        .returning({ sequence: events.sequence });
      const deletedSnapshots = await tx
        .delete(snapshots)
        .where(eq(snapshots.streamId, streamId))
        .returning({ id: snapshots.id });
      await tx.delete(eventStreams).where(eq(eventStreams.id, streamId));
      await tx.insert(streamDeletions).values({
        streamId,
        aggregateType: stream.aggregateType,
        lastVersion: Number(stream.currentVersion),
        deletedEvents: deletedEvents.length,
        deletedSnapshots: deletedSnapshots.length,
        deletedBy: deletion.actor,
        deletedAt: deletion.at,
      });
      await tx.execute(sql`select set_config('event_store.allow_delete', 'off', true)`);
      return { deletedEvents: deletedEvents.length, deletedSnapshots: deletedSnapshots.length };
    });
  }

  /** Reads outside a helper transaction: only "database unreachable" is translated here. */
  private async run<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw unavailableOrOriginal(error);
    }
  }
}
