import type { EventMetadata, JsonValue, StoredEvent } from '@k1s0/eventstore-domain';
import { type SQL, sql } from 'drizzle-orm';
import { events } from './schema.js';

/**
 * JSON columns are read as text and parsed here: postgres.js already parses jsonb and drizzle then
 * re-parses strings, which would turn a stored JSON string like "123" into the number 123.
 */
export const storedEventColumns = {
  sequence: events.sequence,
  streamId: events.streamId,
  eventId: events.eventId,
  eventType: events.eventType,
  version: events.version,
  payload: sql<string>`${events.payload}::text`,
  metadata: sql<string>`${events.metadata}::text`,
  occurredAt: events.occurredAt,
  storedAt: events.storedAt,
};

export interface StoredEventRow {
  sequence: bigint;
  streamId: string;
  eventId: string;
  eventType: string;
  version: number;
  payload: string;
  metadata: string;
  occurredAt: Date;
  storedAt: Date;
}

export function toStoredEvent(row: StoredEventRow): StoredEvent {
  return {
    streamId: row.streamId,
    sequence: BigInt(row.sequence),
    eventId: row.eventId,
    eventType: row.eventType,
    version: Number(row.version),
    payload: JSON.parse(row.payload) as JsonValue,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    occurredAt: row.occurredAt,
    storedAt: row.storedAt,
  };
}

/**
 * The same columns for raw postgres.js queries on the hot paths (no drizzle query building):
 * bigints as text, JSON as text (see above), timestamps as the wire's text (`formatTimestamp`'s
 * form, formatted by PostgreSQL: both truncate to milliseconds), so an encoder can send them as read.
 */
export const RAW_STORED_EVENT_COLUMNS = `sequence::text as sequence, stream_id, event_id, event_type,
  version::text as version, payload::text as payload, metadata::text as metadata,
  ${wireTimestamp('occurred_at')} as occurred_at, ${wireTimestamp('stored_at')} as stored_at`;

function wireTimestamp(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')`;
}

export interface RawStoredEventRow {
  sequence: string;
  stream_id: string;
  event_id: string;
  event_type: string;
  version: string;
  payload: string;
  metadata: string;
  occurred_at: string;
  stored_at: string;
}

/** The text a row held, as a protocol can send it without re-serializing (see storedTextOf). */
export interface StoredEventText {
  /** The payload's JSON text as PostgreSQL prints jsonb (`{"a": 1}`; the same value as the parsed payload). */
  payload: string;
  /** `2026-02-23T10:00:00.000+00:00`, equal to formatTimestamp(occurredAt). */
  occurredAt: string;
  storedAt: string;
}

/**
 * A StoredEvent built from a row, remembering the row's text in a private field (invisible to
 * equality, spreading and JSON): the gRPC read paths encode it as read instead of serializing the
 * parsed values again (issue 13). Everything else sees an ordinary StoredEvent.
 */
class RowEvent implements StoredEvent {
  streamId: string;
  sequence: bigint;
  eventId: string;
  eventType: string;
  version: number;
  payload: JsonValue;
  metadata: EventMetadata;
  occurredAt: Date;
  storedAt: Date;
  readonly #text: StoredEventText;

  constructor(row: RawStoredEventRow) {
    this.streamId = row.stream_id;
    this.sequence = BigInt(row.sequence);
    this.eventId = row.event_id;
    this.eventType = row.event_type;
    this.version = Number(row.version);
    this.payload = JSON.parse(row.payload) as JsonValue;
    this.metadata = JSON.parse(row.metadata) as EventMetadata;
    this.occurredAt = new Date(row.occurred_at);
    this.storedAt = new Date(row.stored_at);
    this.#text = { payload: row.payload, occurredAt: row.occurred_at, storedAt: row.stored_at };
  }

  static textOf(event: StoredEvent): StoredEventText | undefined {
    return #text in event ? (event as RowEvent).#text : undefined;
  }
}

export function storedEventFromRaw(row: RawStoredEventRow): StoredEvent {
  return new RowEvent(row);
}

/** The stored text of an event this adapter read (undefined for events built elsewhere). */
export function storedTextOf(event: StoredEvent): StoredEventText | undefined {
  return RowEvent.textOf(event);
}

/** A JSON document as a jsonb literal, so JSON `null` stays a value rather than SQL NULL. */
export function jsonb(value: JsonValue | EventMetadata): SQL {
  return sql`${JSON.stringify(value)}::jsonb`;
}
