import type { EventMetadata, JsonValue, StoredEvent } from '@k1s0/eventstore-domain';
import { formatTimestamp } from '../timestamps.js';
import { type DecodedWireBody, decodeWireBody, wireBodyStreamId } from '../wire/event-wire-body.js';
import { compactJsonbText } from './jsonb-text.js';

/**
 * `event_store.events` as StoredEventRow reads it. Bigints as text; JSON as text, parsed here, so
 * what comes back is exactly the stored document whatever parsers the shared client has (drizzle
 * re-parses jsonb strings: a stored JSON string "123" would become the number 123); timestamps as
 * UTC `timestamp` text (`2026-02-23 10:00:00.123456`, DateStyle ISO, which the platform's pool
 * sets), turned into the wire's text here by slicing (`wireTimestamp`): PostgreSQL's to_char cost
 * more than the rest of a 200-event page read (issue 13).
 */
const STORED_EVENT_EXPRESSIONS = {
  sequence: 'sequence::text',
  stream_id: 'stream_id',
  event_id: 'event_id',
  event_type: 'event_type',
  version: 'version::text',
  payload: 'payload::text',
  metadata: 'metadata::text',
  occurred_at: "(occurred_at at time zone 'UTC')::text",
  stored_at: "(stored_at at time zone 'UTC')::text",
} satisfies Record<keyof StoredEventRow, string>;

export const STORED_EVENT_COLUMNS = selectList(STORED_EVENT_EXPRESSIONS);

/** The columns a row without a wire body brings in `legacy`, in this order (all but the sequence). */
const LEGACY_FIELDS = [
  'stream_id',
  'event_id',
  'event_type',
  'version',
  'payload',
  'metadata',
  'occurred_at',
  'stored_at',
] as const satisfies readonly Exclude<keyof StoredEventRow, 'sequence'>[];

/**
 * The gRPC read paths' columns (issue 13): a row with a wire body comes as its sequence and the body
 * in base64 (besides the body, the response needs only the value the insert assigned; the stream,
 * for the scope filters, is the body's first field); a row written before the body existed comes
 * with its other columns as one JSON array of texts instead (null otherwise). Three columns, so a
 * row costs the driver three values, not one per column of the table.
 */
export const WIRE_EVENT_COLUMNS = selectList({
  sequence: STORED_EVENT_EXPRESSIONS.sequence,
  wire_event: 'wire_event',
  legacy: `case when wire_event is null then json_build_array(${LEGACY_FIELDS.map(
    (field) => STORED_EVENT_EXPRESSIONS[field],
  ).join(', ')})::text end`,
} satisfies Record<keyof WireRow, string>);

/** A WIRE_EVENT_COLUMNS row: `wire_event`, or else `legacy` (LEGACY_FIELDS), is set. */
export interface WireRow {
  sequence: string;
  wire_event: string | null;
  legacy: string | null;
}

function legacyRow(sequence: string, legacy: string): StoredEventRow {
  const values = JSON.parse(legacy) as string[];
  const row = { sequence } as StoredEventRow;
  LEGACY_FIELDS.forEach((field, i) => {
    row[field] = values[i] as string;
  });
  return row;
}

/**
 * A select list, `expression as name, …`, and its null stand-in for the other side of a `union
 * all` (named, for when it is the first side, whose names the union's columns take).
 */
export interface SelectList {
  readonly sql: string;
  readonly nulls: string;
}

export function selectList(columns: Record<string, string>): SelectList {
  const names = Object.keys(columns);
  return {
    sql: names.map((name) => (columns[name] === name ? name : `${columns[name]} as ${name}`)).join(', '),
    nulls: names.map((name) => `null as ${name}`).join(', '),
  };
}

/** `2026-02-23 10:00:00.123456` (UTC) → `2026-02-23T10:00:00.123+00:00`, formatTimestamp's form. */
export function wireTimestamp(utc: string): string {
  // Four-digit years, the only ones clients send: slices, truncating to milliseconds like Date.
  const n = utc.length;
  if (
    n >= 19 &&
    n <= 26 &&
    utc.charCodeAt(4) === 0x2d &&
    utc.charCodeAt(10) === 0x20 &&
    utc.charCodeAt(n - 1) <= 0x39
  ) {
    const fraction = n > 20 ? `${utc.slice(20, 23)}${'00'.slice(0, Math.max(0, 23 - n))}` : '000';
    return `${utc.slice(0, 10)}T${utc.slice(11, 19)}.${fraction}+00:00`;
  }
  return formatUtc(utc);
}

/** Other years (five digits, BC) as formatTimestamp writes the same instant. */
function formatUtc(utc: string): string {
  const m = /^(\d+)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,3})\d*)?( BC)?$/.exec(utc);
  if (m === null) throw new Error(`unexpected timestamp text from PostgreSQL: ${utc}`);
  const year = m[8] === undefined ? Number(m[1]) : 1 - Number(m[1]);
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), Number((m[7] ?? '0').padEnd(3, '0')));
  return formatTimestamp(date);
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

/** A row of either select list (STORED_EVENT_COLUMNS or WIRE_EVENT_COLUMNS). */
export type EventRow = StoredEventRow | WireRow;

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
 * A StoredEvent built from a row, remembering the row's text in private fields (invisible to
 * equality, spreading and JSON): the gRPC read paths encode it as read instead of formatting the
 * parsed values again (issue 13). The payload and the two Dates are own properties made on first
 * read (an accessor that replaces itself with the value): the gRPC reads never need them, and
 * parsing them was a fifth of a page read's CPU with the garbage it left. Everything else sees an
 * ordinary StoredEvent: own enumerable properties, for equality, spreading and JSON alike.
 */
class RowEvent implements StoredEvent {
  streamId: string;
  sequence: bigint;
  eventId: string;
  eventType: string;
  version: number;
  declare payload: JsonValue;
  metadata: EventMetadata;
  declare occurredAt: Date;
  declare storedAt: Date;
  readonly #occurredAt: string;
  readonly #storedAt: string;
  /** The payload as PostgreSQL printed it. */
  readonly #payloadText: string;
  /** The compact payload text, made on first use (REST reads never need it). */
  #payloadJson: string | undefined;

  static readonly #lazy = {
    payload: lazyProperty('payload', (row: RowEvent) => JSON.parse(row.#payloadText) as JsonValue),
    occurredAt: lazyProperty('occurredAt', (row: RowEvent) => new Date(row.#occurredAt)),
    storedAt: lazyProperty('storedAt', (row: RowEvent) => new Date(row.#storedAt)),
  };

  constructor(row: StoredEventRow) {
    this.streamId = row.stream_id;
    this.sequence = BigInt(row.sequence);
    this.eventId = row.event_id;
    this.eventType = row.event_type;
    this.version = Number(row.version);
    Object.defineProperty(this, 'payload', RowEvent.#lazy.payload);
    this.#payloadText = row.payload;
    this.metadata = JSON.parse(row.metadata) as EventMetadata;
    this.#occurredAt = wireTimestamp(row.occurred_at);
    this.#storedAt = wireTimestamp(row.stored_at);
    Object.defineProperty(this, 'occurredAt', RowEvent.#lazy.occurredAt);
    Object.defineProperty(this, 'storedAt', RowEvent.#lazy.storedAt);
  }

  static textOf(event: StoredEvent): StoredEventText | undefined {
    if (!(#occurredAt in event)) return undefined;
    const row = event as RowEvent;
    row.#payloadJson ??= compactJsonbText(row.#payloadText) ?? JSON.stringify(row.payload);
    return { payload: row.#payloadJson, occurredAt: row.#occurredAt, storedAt: row.#storedAt };
  }
}

/** An own, enumerable accessor that computes the value once and then becomes a data property. */
function lazyProperty<T, V>(name: string, compute: (target: T) => V): PropertyDescriptor {
  const settle = (target: object, value: V) =>
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  return {
    get(this: T) {
      const value = compute(this);
      settle(this as object, value);
      return value;
    },
    set(this: T, value: V) {
      settle(this as object, value);
    },
    enumerable: true,
    configurable: true,
  };
}

export function toStoredEvent(row: StoredEventRow): StoredEvent {
  return new RowEvent(row);
}

/** What a gRPC read sends for a WireEvent: the stored body and the sequence it goes with. */
export interface StoredWire {
  /** The wire body as stored, in base64 (../wire/event-wire-body.ts). */
  body: string;
  sequence: number;
}

/**
 * A StoredEvent read with its wire body (WIRE_EVENT_COLUMNS): the gRPC encoder copies the body
 * (wireOf) and nothing is parsed. `streamId` and `sequence` are ordinary properties (the use cases
 * filter and resume on them); the other fields are getters that decode the body on first use, for
 * the JSON codec's ordinary mapping. Only the gRPC read paths get these (PostgresEventStore's
 * wireReads): they are not plain objects for equality or spreading like RowEvent.
 */
class WireEvent implements StoredEvent {
  readonly sequence: bigint;
  readonly #wire: StoredWire;
  #streamId: string | undefined;
  #decoded: DecodedWireBody | undefined;

  constructor(sequence: string, body: string) {
    this.sequence = BigInt(sequence);
    this.#wire = { body, sequence: Number(sequence) };
  }

  /** Only scoped readers filter on it: decoded from the body's first field when asked. */
  get streamId(): string {
    this.#streamId ??= wireBodyStreamId(this.#wire.body);
    return this.#streamId;
  }

  #body(): DecodedWireBody {
    this.#decoded ??= decodeWireBody(this.#wire.body);
    return this.#decoded;
  }
  get eventId(): string {
    return this.#body().eventId;
  }
  get eventType(): string {
    return this.#body().eventType;
  }
  get version(): number {
    return this.#body().version;
  }
  get payload(): JsonValue {
    return this.#body().payload;
  }
  get metadata(): EventMetadata {
    return this.#body().metadata;
  }
  get occurredAt(): Date {
    return this.#body().occurredAt;
  }
  get storedAt(): Date {
    return this.#body().storedAt;
  }

  static wireOf(event: StoredEvent): StoredWire | undefined {
    return #wire in event ? (event as WireEvent).#wire : undefined;
  }
}

/** A WIRE_EVENT_COLUMNS row as a StoredEvent: a WireEvent, or a RowEvent for a row without a body. */
export function toWireReadEvent(row: WireRow): StoredEvent {
  if (row.wire_event != null) return new WireEvent(row.sequence, row.wire_event);
  if (row.legacy == null) throw new Error(`event ${row.sequence} read without its columns`);
  return new RowEvent(legacyRow(row.sequence, row.legacy));
}

/** The stored wire of an event read by toWireReadEvent (undefined for any other). */
export function wireOf(event: StoredEvent): StoredWire | undefined {
  return WireEvent.wireOf(event);
}

/** The columns an event read selects and how a row becomes an event. */
export interface EventRowForm {
  readonly columns: SelectList;
  toEvent(row: EventRow): StoredEvent;
}

/** Every column as domain values (REST, appends, the relay). */
export const FULL_ROWS = {
  columns: STORED_EVENT_COLUMNS,
  toEvent: (row) => toStoredEvent(row as StoredEventRow),
} satisfies EventRowForm;
/** The wire body where the row has one (the gRPC read paths). */
export const WIRE_ROWS = {
  columns: WIRE_EVENT_COLUMNS,
  toEvent: (row) => toWireReadEvent(row as WireRow),
} satisfies EventRowForm;

/** The wire text of an event this adapter read (undefined for events built elsewhere). */
export function storedTextOf(event: StoredEvent): StoredEventText | undefined {
  return RowEvent.textOf(event);
}
