import {
  type AppendOutcome,
  type AppendRequest,
  type DeletedStream,
  decideAppend,
  type EventStore,
  type EventStream,
  EXPECT_ANY,
  type GlobalLogBatch,
  type GlobalLogQuery,
  type StoredEvent,
  type StreamDeletion,
  type StreamPage,
  type StreamReadQuery,
} from '@k1s0/eventstore-domain';
import {
  type Database,
  DEFAULT_WRITE_BATCH_LIMITS,
  databaseGroupCommit,
  type GroupCommit,
  type GroupOutcome,
  isConnectFailure,
  isDatabaseUnavailable,
  isUniqueViolation,
  unavailableOrOriginal,
  type WriteBatchLimits,
  wakeUp,
} from '@k1s0/platform';
import { LRUMapWithDelete } from 'mnemonist';
import {
  appendAtKnownVersionsStatement,
  appendBatchInTransaction,
  type BatchAttempt,
  decideRejectionsFromSnapshot,
  type KnownVersionPlan,
  type PreparedAppend,
  planAtKnownVersions,
  prepareAppend,
  seenVersion,
  streamLockKey,
} from './append-batch.js';
import {
  type EventRow,
  type EventRowForm,
  FULL_ROWS,
  STORED_EVENT_COLUMNS,
  type StoredEventRow,
  selectList,
  toStoredEvent,
  WIRE_ROWS,
} from './event-rows.js';
import { APPENDED_CHANNEL } from './new-events-signal.js';

/** A unique violation can only come from a writer that raced past the stream lock; a few retries settle it. */
const MAX_APPEND_ATTEMPTS = 5;

/** `event_store.event_streams` as StreamRow reads it (bigint as text, like STORED_EVENT_COLUMNS). */
const STREAM_EXPRESSIONS = {
  id: 'id',
  aggregate_type: 'aggregate_type',
  current_version: 'current_version::text',
  created_at: 'created_at',
  updated_at: 'updated_at',
} satisfies Record<keyof StreamRow, string>;

const STREAM_COLUMNS = selectList(STREAM_EXPRESSIONS);

/** The same as `json_build_object` arguments (timestamps come as ISO text, which Date parses). */
const STREAM_HEADER_FIELDS = Object.entries(STREAM_EXPRESSIONS)
  .map(([name, expression]) => `'${name}', ${expression}`)
  .join(', ');

interface StreamRow {
  id: string;
  aggregate_type: string;
  current_version: string;
  created_at: string | Date;
  updated_at: string | Date;
}

function toEventStream(row: StreamRow): EventStream {
  return {
    id: row.id,
    aggregateType: row.aggregate_type,
    currentVersion: Number(row.current_version),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/**
 * Sorts `events` by `key` in place, if they are not already: a `union all`'s rows come in branch
 * order in practice, but no plan promises it.
 */
function ascendingBy<K extends number | bigint>(events: StoredEvent[], key: (event: StoredEvent) => K): void {
  if (events.every((event, i) => i === 0 || key(events[i - 1]!) <= key(event))) return;
  events.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Streams whose version this instance remembers for the one-statement append (a guess, bounded). */
const KNOWN_STREAMS = 10_000;

/**
 * The EventStore port on PostgreSQL (schema `event_store`), following the port's doc comments step by
 * step. postgres.js tagged SQL only (drizzle defines the schema and migrations): appends are single
 * statements of data-modifying CTEs with the ordered-log allocation, which drizzle's builder cannot
 * express, so the other operations use the same style and one mapper per row type.
 */
export class PostgresEventStore implements EventStore {
  /** Last version this instance saw per stream; only ever a guess that the append statement verifies. */
  private readonly knownVersions = new LRUMapWithDelete<string, number>(KNOWN_STREAMS);
  private readonly appends: GroupCommit<PreparedAppend, AppendOutcome>;

  constructor(
    private readonly database: Database,
    batchLimits: WriteBatchLimits = DEFAULT_WRITE_BATCH_LIMITS,
  ) {
    this.appends = databaseGroupCommit(
      (batch) => this.commitAppends(batch),
      (prepared) => prepared.bytes,
      batchLimits,
    );
  }

  /** Appends waiting for the batch in flight to commit. */
  get queuedAppends(): number {
    return this.appends.waiting;
  }

  async getStream(streamId: string): Promise<EventStream | null> {
    const { sql: q } = this.database;
    const [row] = await this.run(
      () =>
        q<
          StreamRow[]
        >`select ${q.unsafe(STREAM_COLUMNS.sql)} from event_store.event_streams where id = ${streamId}::text`,
    );
    return row ? toEventStream(row) : null;
  }

  /**
   * Group commit (platform GroupCommit): appends that arrive while a batch commits are committed
   * together in the next one; each keeps its own outcome (appendBatchInTransaction).
   */
  append(request: AppendRequest): Promise<AppendOutcome> {
    return this.appends.submit(prepareAppend(request));
  }

  /**
   * One batch, in up to four steps, each only when it has something to do:
   *  1. requests this instance expects to be rejected (their expected version contradicts the
   *     version it last saw) are decided from one snapshot read, without a transaction
   *     (decideRejectionsFromSnapshot);
   *  2. requests on streams whose version it knows are appended in one statement
   *     (appendAtKnownVersions);
   *  3. what is left and now looks rejected (a writer that lost to step 2) is decided from a
   *     second snapshot read;
   *  4. the rest take one locked transaction (appendInTransaction).
   * Deferred requests of the locked step go to the next batch; a batch always decides at least one
   * request (the first of the locked step's batch is never deferred).
   */
  private async commitAppends(batch: readonly PreparedAppend[]): Promise<GroupOutcome<AppendOutcome>[]> {
    const outcomes: GroupOutcome<AppendOutcome>[] = new Array(batch.length);
    let rest = batch.map((_, index) => index);
    /** Requests not yet answered fail with `error` (those answered keep their outcome). */
    const failRest = (error: unknown) => {
      for (const index of rest) outcomes[index] = { kind: 'failed', error };
      return outcomes;
    };
    /** Steps 1 and 3; false when the database could not be reached (then the rest fail). */
    const settle = async (): Promise<boolean> => {
      const settled = await this.settleFromSnapshot(rest.map((index) => batch[index]!));
      if (!Array.isArray(settled)) {
        failRest(settled.unavailable);
        return false;
      }
      rest = rest.filter((index, j) => {
        const outcome = settled[j];
        if (outcome) outcomes[index] = outcome;
        return outcome === undefined;
      });
      return true;
    };
    if (!(await settle())) return outcomes;

    let previous: BatchAttempt | undefined;
    let committed = 0;
    const plan = planAtKnownVersions(
      rest.map((index) => batch[index]!),
      (streamId) => this.knownVersions.get(streamId),
    );
    if (plan) {
      const planned = rest;
      try {
        const appended = await this.appendAtKnownVersions(
          planned.map((index) => batch[index]!),
          plan,
        );
        for (const [j, outcome] of appended)
          outcomes[planned[j]!] = this.answered(batch[planned[j]!]!, outcome);
        committed = appended.size;
        rest = planned.filter((_, j) => !appended.has(j));
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        // Could not even connect: nothing ran, and trying again now would wait a second connect
        // timeout (issue 10 finding 8: appends hung 2-4x connect_timeout during an outage).
        if (isConnectFailure(error)) return failRest(unavailableOrOriginal(error));
        // The statement may have committed: the locked retry below recognises its own events.
        const attempted = new Set(plan.appends.map((append) => planned[append.index]!));
        previous = { appending: new Set(rest.flatMap((index, j) => (attempted.has(index) ? [j] : []))) };
      }
      // Step 3, only when nothing is in doubt (a lost statement is read back under the lock).
      if (previous === undefined && rest.length > 0 && !(await settle())) return outcomes;
    }
    if (rest.length === 0) return outcomes;
    let locked: GroupOutcome<AppendOutcome>[];
    try {
      locked = await this.appendInTransaction(
        rest.map((index) => batch[index]!),
        previous,
      );
    } catch (error) {
      // Nothing committed yet: GroupCommit splits the batch to find the request that causes it.
      if (committed === 0) throw error;
      // Step 2 committed some: they keep their answers and the rest go to the next batch (where
      // a failure splits them alone), so none of the committed is run again and read as a retry.
      for (const index of rest) outcomes[index] = { kind: 'deferred' };
      return outcomes;
    }
    rest.forEach((index, j) => {
      outcomes[index] = locked[j]!;
    });
    return outcomes;
  }

  /**
   * Step 1/3 of commitAppends: the outcomes (answered and remembered) of the requests a snapshot
   * decides, at their indexes; undefined for the others, which are still to be appended.
   * `unavailable` when the database could not even be reached.
   */
  private async settleFromSnapshot(
    batch: readonly PreparedAppend[],
  ): Promise<(GroupOutcome<AppendOutcome> | undefined)[] | { unavailable: unknown }> {
    if (!batch.some((prepared) => this.likelyRejected(prepared))) return [];
    let settled: (AppendOutcome | undefined)[];
    try {
      settled = await decideRejectionsFromSnapshot(this.database.sql, batch);
    } catch (error) {
      // Could not connect: the locked path would only wait out a second connect timeout.
      if (isConnectFailure(error)) return { unavailable: unavailableOrOriginal(error) };
      // Nothing was written: the next steps decide them all.
      return [];
    }
    // Answered (remembered) before the rest appends, whose newer versions must win.
    return batch.map((prepared, i) => {
      const decided = settled[i];
      return decided === undefined ? undefined : this.answered(prepared, decided);
    });
  }

  /** The version this instance last saw for the stream would reject the request. */
  private likelyRejected(prepared: PreparedAppend): boolean {
    const { request } = prepared;
    if (request.expectedVersion === EXPECT_ANY) return false;
    const known = this.knownVersions.get(request.streamId);
    if (known === undefined) return false;
    return (
      decideAppend(request.expectedVersion, prepared.eventIds, {
        stream: { currentVersion: known },
        alreadyStored: [],
      }).kind !== 'append'
    );
  }

  /** One transaction for the batch (appendBatchInTransaction), retried once on a lost connection. */
  private async appendInTransaction(
    batch: readonly PreparedAppend[],
    previous: BatchAttempt | undefined,
  ): Promise<GroupOutcome<AppendOutcome>[]> {
    let lostConnections = previous ? 1 : 0;
    for (let attempt = 1; ; attempt++) {
      const current: BatchAttempt = { appending: new Set() };
      try {
        const outcomes = await this.database.sql.begin((tx) =>
          appendBatchInTransaction(tx, batch, current, previous),
        );
        return outcomes.map((outcome, i) =>
          outcome.kind === 'done' ? this.answered(batch[i]!, outcome.value) : outcome,
        );
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          // Lost mid-batch (killed backend, failover): once more on another connection; the
          // outcome of a commit in flight is read back from the database, not guessed. Not when
          // the connection could not even be opened: then nothing ran and a retry only waits again.
          if (!isConnectFailure(error) && ++lostConnections <= 1) {
            previous = current;
            continue;
          }
          const unavailable = unavailableOrOriginal(error);
          return batch.map(() => ({ kind: 'failed', error: unavailable }));
        }
        if (attempt < MAX_APPEND_ATTEMPTS && isUniqueViolation(error)) continue;
        // Anything else: GroupCommit splits the batch, so only the request that causes it fails.
        throw error;
      }
    }
  }

  /** Remembers the version an outcome proves, wakes readers after a committed append. */
  private answered(prepared: PreparedAppend, outcome: AppendOutcome): GroupOutcome<AppendOutcome> {
    const { streamId } = prepared.request;
    const seen = seenVersion(outcome);
    if (seen === undefined) this.knownVersions.delete(streamId);
    else this.knownVersions.set(streamId, seen);
    // After commit, coalesced: wakes SubscribeAll streams and the relay on every instance.
    if (outcome.kind === 'appended') wakeUp(this.database, APPENDED_CHANNEL);
    return { kind: 'done', value: outcome };
  }

  /**
   * The one-statement path (appendAtKnownVersionsStatement): the requests of the plan whose
   * stream row still had the guessed version are appended; the others are left to the locked
   * path, which decides them from the real state. A rejection decided from a guess is never
   * answered; nothing here is. Returns the appended requests' outcomes by batch index.
   */
  private async appendAtKnownVersions(
    batch: readonly PreparedAppend[],
    plan: KnownVersionPlan,
  ): Promise<Map<number, AppendOutcome>> {
    let inserted: StoredEventRow[];
    try {
      inserted = await appendAtKnownVersionsStatement(this.database.sql, plan);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      inserted = [];
    }
    // Rows in sequence order, which is batch order: each stream's rows in its requests' order.
    const rowsByStream = new Map<string, StoredEventRow[]>();
    for (const row of inserted) {
      const rows = rowsByStream.get(row.stream_id);
      if (rows) rows.push(row);
      else rowsByStream.set(row.stream_id, [row]);
    }
    const appended = new Map<number, AppendOutcome>();
    for (const { index, currentVersion } of plan.appends) {
      const { streamId } = batch[index]!.request;
      const rows = rowsByStream.get(streamId);
      if (rows === undefined) {
        this.knownVersions.delete(streamId);
        continue;
      }
      const events = rows.splice(0, batch[index]!.eventIds.length).map(toStoredEvent);
      appended.set(index, { kind: 'appended', events, currentVersion });
    }
    return appended;
  }

  /**
   * This store with the reads the gRPC paths serve (readStream, readAll) selecting each event's wire
   * body (WIRE_ROWS): events the gRPC encoder copies as stored. Appends and everything else are this
   * store's own (one group commit, one cache of stream versions).
   */
  wireReads(): EventStore {
    return {
      getStream: (streamId) => this.getStream(streamId),
      append: (request) => this.append(request),
      readStream: (streamId, query) => this.readStream(streamId, query, WIRE_ROWS),
      readBySequence: (sequence) => this.readBySequence(sequence),
      readAll: (query) => this.readAll(query, WIRE_ROWS),
      deleteStream: (streamId, deletion) => this.deleteStream(streamId, deletion),
    };
  }

  async readStream(
    streamId: string,
    query: StreamReadQuery,
    form: EventRowForm = FULL_ROWS,
  ): Promise<StreamPage | null> {
    const { sql: q } = this.database;
    // Versions are dense (1..current_version: decideAppend gives each append the next ones, and
    // only deleteStream removes events, all at once). Without an event-type filter the page is a
    // version range and the total follows from the stream row of the same snapshot: no count
    // over the stream and no offset scan (issue 13).
    const byType = query.eventType !== undefined;
    const first = byType ? query.fromVersion : query.fromVersion + query.offset;
    const toVersion = query.toVersion === undefined ? q`` : q`and version <= ${query.toVersion}::bigint`;
    const eventType = query.eventType === undefined ? q`` : q`and event_type = ${query.eventType}::text`;
    const where = q`stream_id = ${streamId}::text and version >= ${first}::bigint ${toVersion} ${eventType}`;
    const total = byType
      ? q`(select count(*) from event_store.events where stream_id = ${streamId}::text
          and version >= ${query.fromVersion}::bigint ${toVersion} ${eventType})::int`
      : q`null::int`;
    // One statement, hence one snapshot for the stream row, the count and the page, so they agree:
    // the stream row first, as one JSON column (the event columns null), then the page (that
    // column null: one null per event row rather than one per stream column).
    const rows = await this.run(
      () => q<({ stream_header: string | null } & Partial<EventRow>)[]>`
        select json_build_object(${q.unsafe(STREAM_HEADER_FIELDS)}, 'total', ${total})::text as stream_header,
          ${q.unsafe(form.columns.nulls)}
        from event_store.event_streams where id = ${streamId}::text
        union all (
          select null, ${q.unsafe(form.columns.sql)}
          from event_store.events where ${where}
          order by events.version offset ${byType ? query.offset : 0}::int limit ${query.limit}::int
        )`,
    );
    const header = rows.find((row) => row.stream_header != null);
    if (header === undefined) return null;
    const headerRow = JSON.parse(header.stream_header!) as StreamRow & { total: number | null };
    const stream = toEventStream(headerRow);
    const events: StoredEvent[] = [];
    for (const row of rows) if (row !== header) events.push(form.toEvent(row as EventRow));
    // Version order: within a stream, sequence order is version order (each append takes the
    // stream's next versions and positions allocated in commit order), and the sequence is a plain
    // property of every form (a wire-read event's version is inside its body).
    ascendingBy(events, (event) => event.sequence);
    const last = Math.min(query.toVersion ?? stream.currentVersion, stream.currentVersion);
    return {
      stream,
      events,
      total: headerRow.total ?? Math.max(0, last - query.fromVersion + 1),
    };
  }

  async readBySequence(sequence: bigint): Promise<StoredEvent | null> {
    const { sql: q } = this.database;
    const [row] = await this.run(
      () => q<StoredEventRow[]>`select ${q.unsafe(STORED_EVENT_COLUMNS.sql)} from event_store.events
        where sequence = ${sequence.toString()}::bigint`,
    );
    return row ? toStoredEvent(row) : null;
  }

  async readAll(query: GlobalLogQuery, form: EventRowForm = FULL_ROWS): Promise<GlobalLogBatch> {
    const { sql: q } = this.database;
    const types =
      query.eventTypes.length === 0 ? q`` : q`and event_type = any(${[...query.eventTypes]}::text[])`;
    // One statement, hence one snapshot for the batch and the horizon bound below. The bound is a
    // backward index scan that stops at the newest final event (a few rows at most); it is only
    // used for a short batch. No CTE: materialising the batch to count it cost a third of the read.
    const rows = await this.run(
      () => q<(Partial<EventRow> & { horizon_max: string | null })[]>`
        (
          select ${q.unsafe(form.columns.sql)}, null as horizon_max from event_store.events
          where sequence >= ${query.fromSequence.toString()}::bigint
            and tx_id < pg_snapshot_xmin(pg_current_snapshot()) ${types}
          order by events.sequence limit ${query.limit}::int -- the bigint, not the text alias
        )
        union all -- one last row: the horizon bound
        select ${q.unsafe(form.columns.nulls)}, (
          select max(sequence) from event_store.events
          where tx_id < pg_snapshot_xmin(pg_current_snapshot())
        )::text`,
    );
    const batch: StoredEvent[] = [];
    let horizonMax: string | null = null;
    for (const row of rows) {
      if (row.sequence == null) horizonMax = row.horizon_max;
      else batch.push(form.toEvent(row as EventRow));
    }
    ascendingBy(batch, (event) => event.sequence);
    const last = batch[batch.length - 1];
    let next = last ? last.sequence + 1n : query.fromSequence;
    // A short batch scanned every final event: move past filtered-out (or deleted) ones too.
    // Allocation makes sequence order equal tx order, so nothing can still appear below this max.
    const short = batch.length < query.limit;
    if (short && horizonMax != null && BigInt(horizonMax) + 1n > next) next = BigInt(horizonMax) + 1n;
    return { events: batch, nextSequence: next };
  }

  async deleteStream(streamId: string, deletion: StreamDeletion): Promise<DeletedStream | null> {
    this.knownVersions.delete(streamId);
    return this.run(() =>
      this.database.sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtextextended(${streamLockKey(streamId)}, 0))`;
        const [row] = await tx<StreamRow[]>`
          select ${tx.unsafe(STREAM_COLUMNS.sql)} from event_store.event_streams where id = ${streamId}::text`;
        if (!row) return null;
        const stream = toEventStream(row);
        // The append-only trigger lets this transaction, and only it, delete events.
        await tx`select set_config('event_store.allow_delete', 'on', true)`;
        const deletedEvents = (await tx`delete from event_store.events where stream_id = ${streamId}::text`)
          .count;
        const deletedSnapshots = (
          await tx`delete from event_store.snapshots where stream_id = ${streamId}::text`
        ).count;
        await tx`delete from event_store.event_streams where id = ${streamId}::text`;
        await tx`insert into event_store.stream_deletions
            (stream_id, aggregate_type, last_version, deleted_events, deleted_snapshots, deleted_by, deleted_at)
          values (${streamId}::text, ${stream.aggregateType}::text, ${stream.currentVersion}::bigint,
            ${deletedEvents}::int, ${deletedSnapshots}::int, ${deletion.actor}::text,
            ${deletion.at.toISOString()}::timestamptz)`;
        await tx`select set_config('event_store.allow_delete', 'off', true)`;
        return { deletedEvents, deletedSnapshots };
      }),
    );
  }

  /** Only "database unreachable" is translated here; other errors keep their cause. */
  private async run<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw unavailableOrOriginal(error);
    }
  }
}
