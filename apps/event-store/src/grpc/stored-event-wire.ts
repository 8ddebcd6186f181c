import type { Message } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import type { StoredEvent } from '@k1s0/eventstore-domain';
import { type RawFields, withRawFields } from '@k1s0/platform';
import { type StoredEventText, storedTextOf } from '../persistence/event-rows.js';

/**
 * Protobuf bytes of `StoredEvent` written straight from the row (issue 13): the timestamps go out
 * as PostgreSQL printed them, with no TextEncoder round, no proto message objects and no reflective
 * create()/toBinary walk per event. The bytes are the ones toBinary writes (field order, proto3
 * defaults left out); payload_json is the compact JSON text the ordinary mapping writes (see
 * StoredEventText).
 *
 * The encoded events reach Connect as the response's unknown fields (platform's pre-encoded.ts):
 * a decoder merges a repeated field wherever it occurs, so the client sees `events` / `event` as
 * usual. JSON has no unknown fields: a JSON codec gets the ordinary messages (`encodesBinary`).
 */

// Tags (field number << 3 | wire type) of event_store.v1.StoredEvent and EventMetadata.
const TAG_STREAM_ID = 0x0a;
const TAG_SEQUENCE = 0x10;
const TAG_EVENT_TYPE = 0x1a;
const TAG_VERSION = 0x20;
const TAG_PAYLOAD = 0x2a;
const TAG_METADATA = 0x32;
const TAG_OCCURRED_AT = 0x3a;
const TAG_STORED_AT = 0x42;
const TAG_EVENT_ID = 0x4a;
const TAG_ACTOR_ID = 0x0a;
const TAG_CORRELATION_ID = 0x12;
const TAG_CAUSATION_ID = 0x1a;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Length-delimited field size: tag (1 byte here) + length prefix + bytes; proto3 leaves "" out. */
function stringFieldSize(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

const textOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Byte lengths of one event's fields, computed once for the sizing and the writing pass. */
interface Sized {
  event: StoredEvent;
  text: StoredEventText;
  actorId: string | undefined;
  correlationId: string | undefined;
  causationId: string | undefined;
  sequence: number;
  metadataSize: number;
  bodySize: number;
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

function optionalSize(value: string | undefined): number {
  if (value === undefined) return 0;
  const bytes = utf8Length(value);
  return 1 + varintSize(bytes) + bytes; // `optional string`: present even when empty
}

function sizeOf(event: StoredEvent, text: StoredEventText): Sized {
  const actorId = textOrUndefined(event.metadata.actor_id);
  const correlationId = textOrUndefined(event.metadata.correlation_id);
  const causationId = textOrUndefined(event.metadata.causation_id);
  const metadataSize = optionalSize(actorId) + optionalSize(correlationId) + optionalSize(causationId);
  const sequence = Number(event.sequence);
  const bodySize =
    stringFieldSize(utf8Length(event.streamId)) +
    (sequence === 0 ? 0 : 1 + varintSize(sequence)) +
    stringFieldSize(utf8Length(event.eventType)) +
    (event.version === 0 ? 0 : 1 + varintSize(event.version)) +
    stringFieldSize(utf8Length(text.payload)) +
    1 +
    varintSize(metadataSize) +
    metadataSize +
    stringFieldSize(text.occurredAt.length) +
    stringFieldSize(text.storedAt.length) +
    stringFieldSize(utf8Length(event.eventId));
  return { event, text, actorId, correlationId, causationId, sequence, metadataSize, bodySize };
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Non-negative integers up to 2^53 (sequences, versions, lengths). */
  varint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  string(tag: number, value: string): void {
    if (value === '') return;
    this.byte(tag);
    const bytes = utf8Length(value);
    this.varint(bytes);
    this.pos += this.buf.write(value, this.pos, bytes, 'utf8');
  }

  optional(tag: number, value: string | undefined): void {
    if (value === undefined) return;
    this.byte(tag);
    const bytes = utf8Length(value);
    this.varint(bytes);
    this.pos += this.buf.write(value, this.pos, bytes, 'utf8');
  }

  event(s: Sized): void {
    const { event, text } = s;
    this.string(TAG_STREAM_ID, event.streamId);
    if (s.sequence !== 0) {
      this.byte(TAG_SEQUENCE);
      this.varint(s.sequence);
    }
    this.string(TAG_EVENT_TYPE, event.eventType);
    if (event.version !== 0) {
      this.byte(TAG_VERSION);
      this.varint(event.version);
    }
    this.string(TAG_PAYLOAD, text.payload);
    this.byte(TAG_METADATA);
    this.varint(s.metadataSize);
    this.optional(TAG_ACTOR_ID, s.actorId);
    this.optional(TAG_CORRELATION_ID, s.correlationId);
    this.optional(TAG_CAUSATION_ID, s.causationId);
    this.string(TAG_OCCURRED_AT, text.occurredAt);
    this.string(TAG_STORED_AT, text.storedAt);
    this.string(TAG_EVENT_ID, event.eventId);
  }
}

/**
 * Every event as repeated field `fieldNo` of the enclosing message, in the form of one unknown
 * field entry (toBinary writes the tag, then these bytes: length, event, then tag, length, event
 * for the rest). undefined when an event was not read from a row (then use the ordinary mapping).
 */
export function encodedEventsField(fieldNo: number, events: readonly StoredEvent[]): RawFields | undefined {
  if (events.length === 0) return undefined;
  const sized: Sized[] = new Array(events.length);
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as StoredEvent;
    const text = storedTextOf(event);
    if (text === undefined) return undefined;
    const s = sizeOf(event, text);
    sized[i] = s;
    total += 1 + varintSize(s.bodySize) + s.bodySize;
  }
  const tag = (fieldNo << 3) | WireType.LengthDelimited;
  const w = new Writer(Buffer.allocUnsafe(total));
  for (const s of sized) {
    w.byte(tag);
    w.varint(s.bodySize);
    w.event(s);
  }
  // The leading tag is toBinary's to write.
  return { no: fieldNo, wireType: WireType.LengthDelimited, data: w.buf.subarray(1, w.pos) };
}

/** `message` with the events as pre-encoded field `fieldNo` (see encodedEventsField), or undefined. */
export function withEncodedEvents<M extends Message>(
  message: M,
  fieldNo: number,
  events: readonly StoredEvent[],
): M | undefined {
  const field = encodedEventsField(fieldNo, events);
  if (field === undefined) return undefined;
  return withRawFields(message, field);
}
