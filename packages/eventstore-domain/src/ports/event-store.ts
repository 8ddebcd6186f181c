import type { EventStream } from '../model/event-stream.js';
import type { ExpectedVersion } from '../model/expected-version.js';
import type { PreparedEvent } from '../model/new-event.js';
import type { StoredEvent } from '../model/stored-event.js';
import type { AppendDecision } from '../rules/append-decision.js';

export interface AppendRequest {
  streamId: string;
  /** Validated: n ≥ 0, -1 or -2. */
  expectedVersion: ExpectedVersion;
  /** 1..maxEventsPerAppend events, ids unique and lower-case. */
  events: readonly PreparedEvent[];
  /** Used only when the append creates the stream; an existing stream keeps its own. */
  aggregateType: string;
}

/**
 * Result of `EventStore.append`: `appended` when this call stored the events, otherwise exactly the
 * non-`append` decision returned by `decideAppend`.
 */
export type AppendOutcome =
  | { kind: 'appended'; events: StoredEvent[]; currentVersion: number }
  | Exclude<AppendDecision, { kind: 'append' }>;

export interface StreamReadQuery {
  /** Inclusive, ≥ 1. */
  fromVersion: number;
  /** Inclusive; undefined = no upper bound. */
  toVersion: number | undefined;
  /** Exact match; undefined = every type. */
  eventType: string | undefined;
  offset: number;
  limit: number;
}

export interface StreamPage {
  stream: EventStream;
  /** Matching events ordered by version ascending, after skipping `offset`, at most `limit`. */
  events: StoredEvent[];
  /** Number of matching events ignoring offset/limit (for `total_count` / `has_next`). */
  total: number;
}

export interface GlobalLogQuery {
  /** First sequence to consider, inclusive (0 = from the beginning). */
  fromSequence: bigint;
  /** ≥ 1. */
  limit: number;
  /** Exact event types to return; empty = every type. */
  eventTypes: readonly string[];
}

export interface GlobalLogBatch {
  /** Ascending by sequence, all ≥ fromSequence, matching `eventTypes`, at most `limit`. */
  events: StoredEvent[];
  /**
   * Where the next call should start (its `fromSequence`). Greater than every returned sequence and
   * ≥ fromSequence. Every matching event with fromSequence ≤ sequence < nextSequence is in `events`
   * and no such event can ever appear later. When fewer than `limit` events came back the adapter
   * may move it past the non-matching events it scanned, up to (never beyond) its safe horizon.
   */
  nextSequence: bigint;
}

export interface StreamDeletion {
  /** Who asked (the token's acting user), recorded by the adapter. */
  actor: string;
  at: Date;
}

export interface DeletedStream {
  deletedEvents: number;
  deletedSnapshots: number;
}

/**
 * Persistence of streams and events. Every method is one transaction (or one consistent read).
 */
export interface EventStore {
  getStream(streamId: string): Promise<EventStream | null>;

  /**
   * Appends atomically, all events or none. The adapter must, in ONE transaction:
   *  1. serialise appends to this stream, including the first one of a stream that does not exist yet
   *     (e.g. `pg_advisory_xact_lock(hashtext(stream_id))`, or a provisional `INSERT … ON CONFLICT DO
   *     NOTHING RETURNING` of the stream row remembering whether it was new, then `SELECT … FOR UPDATE`);
   *  2. read the stream's current version (null when it does not exist) and the events of this stream
   *     whose event_id is among the request's ids: that is the `AppendState`;
   *  3. call `decideAppend(request.expectedVersion, request.events.map((e) => e.eventId), state)`;
   *  4. on `append`: insert the events as versions firstVersion…currentVersion in request order (the
   *     database assigns `sequence` and `stored_at`), create the stream row with `aggregateType` when
   *     `createStream`, set `current_version`/`updated_at`, commit, and return `appended` with the
   *     stored events in version order and `currentVersion`;
   *     on any other decision: roll back (nothing written) and return the decision unchanged.
   * A unique-violation on (stream_id, version) or (stream_id, event_id) from a racing writer must be
   * resolved by retrying the transaction, not surfaced as an error.
   * Readers of the global log are notified (NewEventsSignal) after commit.
   * The transaction may be shared with concurrent appends (group commit) as long as each request
   * is decided on its own, in order, and no request's rejection undoes another's append.
   */
  append(request: AppendRequest): Promise<AppendOutcome>;

  /** One page of a stream, or null when the stream does not exist. */
  readStream(streamId: string, query: StreamReadQuery): Promise<StreamPage | null>;

  /** The committed event with this global sequence, whatever its stream; null when there is none. */
  readBySequence(sequence: bigint): Promise<StoredEvent | null>;

  /**
   * A batch of the global log in sequence order (event replay, Kafka relay, SubscribeAll).
   * Never-skip guarantee: the adapter returns only events below its safe horizon — a sequence below
   * which no transaction still in flight can commit an event (e.g. record `pg_current_xact_id()` per
   * event and read only events whose transaction is older than `pg_snapshot_xmin(pg_current_snapshot())`).
   * So a reader resuming at `nextSequence` never misses an event that commits later with a lower sequence.
   */
  readAll(query: GlobalLogQuery): Promise<GlobalLogBatch>;

  /**
   * Deletes the stream row, its events and its snapshots and records `deletion` (who, when, what
   * stream, how many events/snapshots) in one transaction — the only path allowed to delete events.
   * Null when the stream does not exist.
   */
  deleteStream(streamId: string, deletion: StreamDeletion): Promise<DeletedStream | null>;
}
