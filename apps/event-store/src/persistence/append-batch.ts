import {
  type AppendOutcome,
  type AppendRequest,
  decideAppend,
  type StoredEvent,
} from '@k1s0/eventstore-domain';
import { type GroupOutcome, orderedLogAllocFragment } from '@k1s0/platform';
import type postgres from 'postgres';
import { wireTimestampOfIso } from '../timestamps.js';
import { storedAtField, type WireBodyParts, wireBodyParts, wireBodyText } from '../wire/event-wire-body.js';
import { STORED_EVENT_COLUMNS, type StoredEventRow, toStoredEvent } from './event-rows.js';
import { jsonbOrderedText } from './jsonb-text.js';
import { eventsLog } from './ordered-log.js';

type Sql = postgres.Sql | postgres.TransactionSql;

/** An append request with its JSON serialised once (for the batch's byte bound and the statement). */
export interface PreparedAppend {
  request: AppendRequest;
  eventIds: string[];
  /** Each payload as its jsonb read prints it compactly (jsonbOrderedText): stored and in the wire body. */
  payloads: string[];
  metadata: string[];
  /** Each event's occurred_at, toISOString(). */
  occurredAt: string[];
  /** Each event's wire body around its version (decided in the batch's transaction). */
  wireParts: (WireBodyParts | undefined)[];
  /** Bytes of JSON this request adds to a batch. */
  bytes: number;
}

export function prepareAppend(request: AppendRequest): PreparedAppend {
  // The append use case serialized each event once for its size check; reused when its keys are
  // already in jsonb's order.
  const payloads = request.events.map((event) => jsonbOrderedText(event.payload, event.payloadJson));
  const metadata = request.events.map((event) => event.metadataJson ?? JSON.stringify(event.metadata));
  const occurredAt = request.events.map((event) => event.occurredAt.toISOString());
  const wireParts = request.events.map((event, i) =>
    wireBodyParts({
      streamId: request.streamId,
      eventType: event.eventType,
      payloadJson: payloads[i] as string,
      metadata: event.metadata,
      occurredAt: wireTimestampOfIso(occurredAt[i] as string),
      eventId: event.eventId,
    }),
  );
  let bytes = 0;
  for (const text of payloads) bytes += text.length;
  for (const text of metadata) bytes += text.length;
  return {
    request,
    eventIds: request.events.map((event) => event.eventId),
    payloads,
    metadata,
    occurredAt,
    wireParts,
    bytes,
  };
}

/** Key of the per-stream transaction lock: serialises appends (and deletes) of one stream, even before its row exists. */
export const streamLockKey = (streamId: string) => `event_store:stream:${streamId}`;

/**
 * Events to insert, flattened in batch order: the i-th one gets the i-th allocated position. Their
 * stored_at is the batch's, taken when it is made (the wire bodies carry it; the column gets it too).
 */
class EventColumns {
  /** stored_at of every event, toISOString(). */
  readonly storedAt: string;
  readonly #storedAtField: Buffer;
  readonly streamIds: string[] = [];
  readonly eventIds: string[] = [];
  readonly versions: number[] = [];
  readonly eventTypes: string[] = [];
  readonly payloads: string[] = [];
  readonly metadata: string[] = [];
  readonly occurredAt: string[] = [];
  readonly wireBodies: (string | null)[] = [];

  constructor(now: Date = new Date()) {
    this.storedAt = now.toISOString();
    this.#storedAtField = storedAtField(wireTimestampOfIso(this.storedAt));
  }

  add(prepared: PreparedAppend, firstVersion: number): void {
    const { request } = prepared;
    request.events.forEach((event, i) => {
      this.streamIds.push(request.streamId);
      this.eventIds.push(event.eventId);
      this.versions.push(firstVersion + i);
      this.eventTypes.push(event.eventType);
      this.payloads.push(prepared.payloads[i]!);
      this.metadata.push(prepared.metadata[i]!);
      this.occurredAt.push(prepared.occurredAt[i]!);
      this.wireBodies.push(wireBodyText(prepared.wireParts[i], firstVersion + i, this.#storedAtField));
    });
  }

  get count(): number {
    return this.eventIds.length;
  }
}

/**
 * The `inserted` CTE: the columns' events joined to `alloc` by position, so sequence order is
 * batch order (and, within a request, version order). `onlyIf`: a further join that can veto the insert.
 */
function insertEventsFragment(q: Sql, columns: EventColumns, onlyIf?: postgres.PendingQuery<postgres.Row[]>) {
  return q`insert into event_store.events
      (sequence, tx_id, stream_id, event_id, version, event_type, payload, metadata, occurred_at, stored_at,
        wire_event)
    select alloc.seq, alloc.tx_id, e.stream_id, e.event_id, e.version,
      e.event_type, e.payload::jsonb, e.metadata::jsonb, e.occurred_at::timestamptz,
      ${columns.storedAt}::timestamptz, e.wire_event
    from unnest(
      ${columns.streamIds}::text[],
      ${columns.eventIds}::uuid[],
      ${columns.versions}::bigint[],
      ${columns.eventTypes}::text[],
      ${columns.payloads}::text[],
      ${columns.metadata}::text[],
      ${columns.occurredAt}::text[],
      ${columns.wireBodies}::text[]
    ) with ordinality as e(stream_id, event_id, version, event_type, payload, metadata, occurred_at, wire_event, i)
    join alloc using (i) ${onlyIf ?? q``}
    returning ${q.unsafe(STORED_EVENT_COLUMNS.sql)}`;
}

/**
 * What the one-statement path (PostgresEventStore.appendAtKnownVersions) writes for a batch: the
 * requests whose stream version this instance has seen, decided by the domain against that guess,
 * advanced by the batch's earlier appends to the same stream, up to the first request of the
 * stream that would not append against it: that one and the stream's later ones are decided after
 * the statement, from the real state. Only when every other request of the batch would be rejected
 * there: a batch with an append the statement cannot write (unknown stream, an event id repeated in
 * the batch, an append after a rejection) takes the locked path whole, so a batch stays one
 * transaction. The statement writes each stream only `where current_version = <guess>`.
 */
export interface KnownVersionPlan {
  /** Indexes into the batch, in batch order, with their decisions. */
  appends: { index: number; currentVersion: number }[];
  /** Per stream: the version guessed and the version after the batch's appends. */
  streams: { id: string; guess: number; final: number }[];
  columns: EventColumns;
}

export function planAtKnownVersions(
  batch: readonly PreparedAppend[],
  knownVersion: (streamId: string) => number | undefined,
): KnownVersionPlan | undefined {
  const streams = new Map<
    string,
    { guess: number; final: number; ids: Set<string>; closed: boolean } | null
  >();
  const decisions: (AppendDecisionToWrite | undefined)[] = [];
  let needsLock = false;
  batch.forEach((prepared, index) => {
    const { request, eventIds } = prepared;
    let stream = streams.get(request.streamId);
    if (stream === undefined) {
      const guess = knownVersion(request.streamId);
      // 0: seen as absent; creating a stream is the locked path's work.
      stream =
        guess === undefined || guess === 0 ? null : { guess, final: guess, ids: new Set(), closed: false };
      streams.set(request.streamId, stream);
    }
    if (stream === null) {
      needsLock = true;
      return;
    }
    const decision = decideAppend(request.expectedVersion, eventIds, {
      stream: { currentVersion: stream.final },
      alreadyStored: [],
    });
    if (stream.closed || decision.kind !== 'append') {
      // Decided after the statement, from the real state (which then includes the stream's earlier
      // appends): a rejection is read from a snapshot, but an append needs the locked path.
      stream.closed = true;
      if (decision.kind === 'append') needsLock = true;
      return;
    }
    if (eventIds.some((id) => stream.ids.has(id))) {
      needsLock = true;
      return;
    }
    for (const id of eventIds) stream.ids.add(id);
    stream.final = decision.currentVersion;
    decisions[index] = { firstVersion: decision.firstVersion, currentVersion: decision.currentVersion };
  });
  const columns = new EventColumns();
  const appends: KnownVersionPlan['appends'] = [];
  batch.forEach((prepared, index) => {
    const decision = decisions[index];
    if (decision === undefined) return;
    columns.add(prepared, decision.firstVersion);
    appends.push({ index, currentVersion: decision.currentVersion });
  });
  if (needsLock || appends.length === 0) return undefined;
  const written: KnownVersionPlan['streams'] = [];
  for (const [id, stream] of streams) {
    if (stream !== null && stream.final !== stream.guess)
      written.push({ id, guess: stream.guess, final: stream.final });
  }
  return { appends, streams: written, columns };
}

interface AppendDecisionToWrite {
  firstVersion: number;
  currentVersion: number;
}

/**
 * ONE autocommit statement for a KnownVersionPlan: one ordered-log allocation (first write), a
 * compare-and-set of each stream row (`where current_version = <guess>`), and the events of the
 * streams whose row it moved. Returns the inserted rows in sequence order; a stream missing from
 * them was moved by someone else (its drawn positions become a gap, which readers tolerate). An
 * event id already stored trips the (stream_id, event_id) key and the statement writes nothing.
 */
export function appendAtKnownVersionsStatement(q: postgres.Sql, plan: KnownVersionPlan) {
  const { streams, columns } = plan;
  return q<StoredEventRow[]>`
    with alloc as materialized (
      ${orderedLogAllocFragment(q, eventsLog, columns.count)}
    ), stream as (
      update event_store.event_streams
      set current_version = u.final, updated_at = now()
      from unnest(
        ${streams.map((stream) => stream.id)}::text[],
        ${streams.map((stream) => stream.guess)}::bigint[],
        ${streams.map((stream) => stream.final)}::bigint[]
      ) as u(id, guess, final), (select 1 from alloc where i = 1) as allocated
      where event_streams.id = u.id and event_streams.current_version = u.guess
      returning event_streams.id
    ), inserted as (
      ${insertEventsFragment(q, columns, q`join stream on stream.id = e.stream_id`)}
    )
    select * from inserted order by sequence::bigint`;
}

const batchStreamIds = (batch: readonly PreparedAppend[]) => [
  ...new Set(batch.map((prepared) => prepared.request.streamId)),
];

/** (stream, event id) of every event of the batch, as two parallel arrays for `unnest`. */
function batchEventKeys(batch: readonly PreparedAppend[]): { streams: string[]; ids: string[] } {
  const streams: string[] = [];
  const ids: string[] = [];
  for (const prepared of batch) {
    for (const id of prepared.eventIds) {
      streams.push(prepared.request.streamId);
      ids.push(id);
    }
  }
  return { streams, ids };
}

/** What a batch's requests are decided against: stream versions (null: no stream) and stored events with their ids. */
interface AppendState {
  versions: Map<string, number | null>;
  storedByStream: Map<string, StoredEvent[]>;
}

function appendState(
  streamIds: readonly string[],
  streamRows: readonly { id: string; current_version: string }[],
  storedRows: readonly StoredEventRow[],
): AppendState {
  const versions = new Map<string, number | null>(streamIds.map((id) => [id, null]));
  for (const row of streamRows) versions.set(row.id, Number(row.current_version));
  const storedByStream = new Map<string, StoredEvent[]>();
  for (const row of storedRows) {
    const event = toStoredEvent(row);
    const list = storedByStream.get(event.streamId);
    if (list) list.push(event);
    else storedByStream.set(event.streamId, [event]);
  }
  return { versions, storedByStream };
}

function decideAgainst(
  prepared: PreparedAppend,
  versions: AppendState['versions'],
  storedByStream: AppendState['storedByStream'],
) {
  const { request, eventIds } = prepared;
  const ids = new Set(eventIds);
  const current = versions.get(request.streamId) ?? null;
  return decideAppend(request.expectedVersion, eventIds, {
    stream: current === null ? null : { currentVersion: current },
    alreadyStored: (storedByStream.get(request.streamId) ?? []).filter((event) => ids.has(event.eventId)),
  });
}

/**
 * Rejections and replays decided WITHOUT a transaction or lock, from one statement's snapshot:
 * for each stream, the batch's requests before its first one that would append are decided
 * against the snapshot (a conflict, stream_exists, duplicate or event-id conflict there is their
 * answer: the snapshot is a moment inside each request's lifetime, and they come before every
 * append of this batch to that stream, as batch order has them). The result has an outcome at
 * the index of each request so decided; the others are left to the locked path. One round trip
 * instead of BEGIN + reads + COMMIT: what a writer with a stale version costs (issue 13 hot row).
 */
export async function decideRejectionsFromSnapshot(
  q: postgres.Sql,
  batch: readonly PreparedAppend[],
): Promise<(AppendOutcome | undefined)[]> {
  const streamIds = batchStreamIds(batch);
  const keys = batchEventKeys(batch);
  // One statement, hence one snapshot for the versions and the stored ids (the rows of both, each
  // padded with nulls for the other's columns).
  const rows = await q<(Partial<StoredEventRow> & { s_id: string | null; s_version: string | null })[]>`
    with s as (
      select id as s_id, current_version::text as s_version from event_store.event_streams
      where id = any(${streamIds}::text[])
    ), e as (
      select ${q.unsafe(STORED_EVENT_COLUMNS.sql)} from event_store.events
      where (stream_id, event_id) in (
        select * from unnest(${keys.streams}::text[], ${keys.ids}::uuid[]))
    )
    select s.*, e.* from s left join e on false
    union all
    select null, null, e.* from e`;
  const streamRows: { id: string; current_version: string }[] = [];
  const storedRows: StoredEventRow[] = [];
  for (const row of rows) {
    if (row.s_id != null && row.s_version != null)
      streamRows.push({ id: row.s_id, current_version: row.s_version });
    else storedRows.push(row as StoredEventRow);
  }
  const { versions, storedByStream } = appendState(streamIds, streamRows, storedRows);
  const appending = new Set<string>();
  return batch.map((prepared) => {
    const { streamId } = prepared.request;
    if (appending.has(streamId)) return undefined;
    const decision = decideAgainst(prepared, versions, storedByStream);
    if (decision.kind === 'append') {
      appending.add(streamId);
      return undefined;
    }
    return decision;
  });
}

/** What one attempt decided; survives the attempt so a retry after a lost connection can tell. */
export interface BatchAttempt {
  /** Indexes of the requests this attempt decided to append (their commit may have happened). */
  appending: Set<number>;
}

/** Final stream row of the batch: created with the aggregate type of the request that creates it. */
interface StreamWrite {
  aggregateType: string;
  currentVersion: number;
}

/**
 * Appends a batch in ONE transaction (the caller's `tx`), deciding every request on its own:
 *  1. locks every stream of the batch, in key order (two instances batching the same streams
 *     cannot deadlock), and reads their versions and the already stored events with the batch's
 *     ids — sent together, one round trip;
 *  2. decides each request with the domain's `decideAppend` against that state, advanced by the
 *     batch's earlier appends to the same stream; a request whose ids an earlier request of this
 *     batch is appending is deferred to the next batch (its answer depends on that commit);
 *  3. writes all appends in one statement: one ordered-log allocation for the whole batch (first
 *     write of the transaction), one multi-row upsert of the stream rows, one multi-row insert.
 * `previous` is the attempt that lost its connection, if any: a request it was appending that now
 * reads as an exact duplicate was committed by it, so it is answered as appended.
 */
export async function appendBatchInTransaction(
  tx: postgres.TransactionSql,
  batch: readonly PreparedAppend[],
  attempt: BatchAttempt,
  previous: BatchAttempt | undefined,
): Promise<GroupOutcome<AppendOutcome>[]> {
  const streamIds = batchStreamIds(batch);
  const keys = batchEventKeys(batch);
  // Advisory locks and plain SELECTs assign no transaction id: the allocation stays the first write.
  const [, streamRows, storedRows] = await Promise.all([
    tx`select pg_advisory_xact_lock(k) from (
        select distinct hashtextextended(name, 0) as k
        from unnest(${streamIds.map(streamLockKey)}::text[]) as name order by k
      ) as keys`,
    tx<{ id: string; current_version: string }[]>`
      select id, current_version::text as current_version from event_store.event_streams
      where id = any(${streamIds}::text[])`,
    tx<StoredEventRow[]>`
      select ${tx.unsafe(STORED_EVENT_COLUMNS.sql)} from event_store.events
      where (stream_id, event_id) in (
        select * from unnest(${keys.streams}::text[], ${keys.ids}::uuid[]))`,
  ]);
  const { versions, storedByStream } = appendState(streamIds, streamRows, storedRows);

  const outcomes: GroupOutcome<AppendOutcome>[] = [];
  const appendingIds = new Map<string, Set<string>>();
  const streamWrites = new Map<string, StreamWrite>();
  const appends: { index: number; currentVersion: number }[] = [];
  const columns = new EventColumns();
  batch.forEach((prepared, index) => {
    const { request, eventIds } = prepared;
    const pending = appendingIds.get(request.streamId);
    if (pending && eventIds.some((id) => pending.has(id))) {
      outcomes[index] = { kind: 'deferred' };
      return;
    }
    const decision = decideAgainst(prepared, versions, storedByStream);
    if (decision.kind !== 'append') {
      const committedBefore = decision.kind === 'duplicate' && previous?.appending.has(index) === true;
      outcomes[index] = {
        kind: 'done',
        value: committedBefore
          ? { kind: 'appended', events: decision.events, currentVersion: decision.currentVersion }
          : decision,
      };
      return;
    }
    versions.set(request.streamId, decision.currentVersion);
    if (pending) for (const id of eventIds) pending.add(id);
    else appendingIds.set(request.streamId, new Set(eventIds));
    const write = streamWrites.get(request.streamId);
    if (write) write.currentVersion = decision.currentVersion;
    else
      streamWrites.set(request.streamId, {
        aggregateType: request.aggregateType,
        currentVersion: decision.currentVersion,
      });
    columns.add(prepared, decision.firstVersion);
    appends.push({ index, currentVersion: decision.currentVersion });
    attempt.appending.add(index);
  });
  if (appends.length === 0) return outcomes;

  const streams = [...streamWrites];
  const inserted = await tx<StoredEventRow[]>`
    with alloc as materialized (
      ${orderedLogAllocFragment(tx, eventsLog, columns.count)}
    ), stream as (
      insert into event_store.event_streams (id, aggregate_type, current_version)
      select s.id, s.aggregate_type, s.current_version
      from unnest(
        ${streams.map(([id]) => id)}::text[],
        ${streams.map(([, write]) => write.aggregateType)}::text[],
        ${streams.map(([, write]) => write.currentVersion)}::bigint[]
      ) as s(id, aggregate_type, current_version)
      cross join (select 1 from alloc where i = 1) as allocated
      on conflict (id) do update set current_version = excluded.current_version, updated_at = now()
      returning id
    ), inserted as (
      ${insertEventsFragment(tx, columns)}
    )
    select * from inserted order by sequence::bigint`;
  if (inserted.length !== columns.count) {
    throw new Error(`append batch stored ${inserted.length} of ${columns.count} events`);
  }
  let offset = 0;
  for (const { index, currentVersion } of appends) {
    const count = batch[index]!.eventIds.length;
    const events = inserted.slice(offset, offset + count).map(toStoredEvent);
    offset += count;
    outcomes[index] = { kind: 'done', value: { kind: 'appended', events, currentVersion } };
  }
  return outcomes;
}

/** The stream version an append outcome proves (undefined: it proves none). */
export function seenVersion(outcome: AppendOutcome): number | undefined {
  switch (outcome.kind) {
    case 'appended':
      return outcome.currentVersion;
    case 'version_conflict':
    case 'stream_exists':
      return outcome.actualVersion;
    default:
      return undefined;
  }
}
