import type { EventMetadata, JsonValue, StoredEvent } from '@k1s0/eventstore-domain';

/**
 * `event_store.events` as StoredEventRow reads it. Bigints as text; JSON as text, parsed here, so
 * what comes back is exactly the stored document whatever parsers the shared client has (drizzle
 * re-parses jsonb strings: a stored JSON string "123" would become the number 123); timestamps as
 * the wire's text (`formatTimestamp`'s form, formatted by PostgreSQL: both truncate to
 * milliseconds), so the gRPC encoder can send them as read (issue 13).
 */
export const STORED_EVENT_COLUMNS = `sequence::text as sequence, stream_id, event_id, event_type,
  version::text as version, payload::text as payload, metadata::text as metadata,
  ${wireTimestamp('occurred_at')} as occurred_at, ${wireTimestamp('stored_at')} as stored_at`;

function wireTimestamp(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')`;
}

export interface StoredEventRow {
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

/** An event's wire text, as the gRPC encoder sends it without re-serializing (see storedTextOf). */
export interface StoredEventText {
  /**
   * payload_json: compact JSON of the payload (`{"a":1}`), byte for byte what the ordinary mapping
   * sends. Not PostgreSQL's jsonb text (`{"a": 1}`): clients comparing bytes must not see a change.
   */
  payload: string;
  /** `2026-02-23T10:00:00.000+00:00`, equal to formatTimestamp(occurredAt). */
  occurredAt: string;
  storedAt: string;
}

/**
 * A StoredEvent built from a row, remembering the row's timestamp text in a private field
 * (invisible to equality, spreading and JSON): the gRPC read paths encode it as read instead of
 * formatting the parsed values again (issue 13). Everything else sees an ordinary StoredEvent.
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
  readonly #occurredAt: string;
  readonly #storedAt: string;
  /** The compact payload text, made on first use (REST reads never need it). */
  #payloadJson: string | undefined;

  constructor(row: StoredEventRow) {
    this.streamId = row.stream_id;
    this.sequence = BigInt(row.sequence);
    this.eventId = row.event_id;
    this.eventType = row.event_type;
    this.version = Number(row.version);
    this.payload = JSON.parse(row.payload) as JsonValue;
    this.metadata = JSON.parse(row.metadata) as EventMetadata;
    this.occurredAt = new Date(row.occurred_at);
    this.storedAt = new Date(row.stored_at);
    this.#occurredAt = row.occurred_at;
    this.#storedAt = row.stored_at;
  }

  static textOf(event: StoredEvent): StoredEventText | undefined {
    if (!(#occurredAt in event)) return undefined;
    const row = event as RowEvent;
    row.#payloadJson ??= JSON.stringify(row.payload);
    return { payload: row.#payloadJson, occurredAt: row.#occurredAt, storedAt: row.#storedAt };
  }
}

export function toStoredEvent(row: StoredEventRow): StoredEvent {
  return new RowEvent(row);
}

/** The wire text of an event this adapter read (undefined for events built elsewhere). */
export function storedTextOf(event: StoredEvent): StoredEventText | undefined {
  return RowEvent.textOf(event);
}
