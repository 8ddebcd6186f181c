import type { Message } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import type { StoredEvent } from '@k1s0/eventstore-domain';
import { type RawFields, withRawFields } from '@k1s0/platform';
import { type StoredEventText, type StoredWire, storedTextOf, wireOf } from '../persistence/event-rows.js';
import {
  metadataSize,
  streamIdFieldLength,
  TAG_EVENT_ID,
  TAG_EVENT_TYPE,
  TAG_OCCURRED_AT,
  TAG_PAYLOAD,
  TAG_SEQUENCE,
  TAG_STORED_AT,
  TAG_STREAM_ID,
  TAG_VERSION,
  type WireMetadata,
  wireBodyBytes,
  wireMetadata,
  writeMetadata,
} from '../wire/event-wire-body.js';
import { ProtoWriter, stringFieldSize, utf8Length, varintSize } from '../wire/proto-writer.js';

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

/** An event read from its columns (RowEvent), with its fields' sizes for the sizing and writing pass. */
interface SizedRow {
  event: StoredEvent;
  text: StoredEventText;
  metadata: WireMetadata;
  sequence: number;
  metadataSize: number;
  bodySize: number;
}

/** An event read with its wire body: the stored body, and the sequence written into it. */
interface SizedWire {
  wire: StoredWire;
  bodySize: number;
}

type Sized = SizedRow | SizedWire;

function sizeOfRow(event: StoredEvent, text: StoredEventText): SizedRow {
  const metadata = wireMetadata(event.metadata);
  const metaSize = metadataSize(metadata);
  const sequence = Number(event.sequence);
  const bodySize =
    stringFieldSize(utf8Length(event.streamId)) +
    (sequence === 0 ? 0 : 1 + varintSize(sequence)) +
    stringFieldSize(utf8Length(event.eventType)) +
    (event.version === 0 ? 0 : 1 + varintSize(event.version)) +
    stringFieldSize(utf8Length(text.payload)) +
    1 +
    varintSize(metaSize) +
    metaSize +
    stringFieldSize(text.occurredAt.length) +
    stringFieldSize(text.storedAt.length) +
    stringFieldSize(utf8Length(event.eventId));
  return { event, text, metadata, sequence, metadataSize: metaSize, bodySize };
}

function sizeOfWire(wire: StoredWire): SizedWire {
  const bodySize = wireBodyBytes(wire.body) + (wire.sequence === 0 ? 0 : 1 + varintSize(wire.sequence));
  return { wire, bodySize };
}

function writeRow(w: ProtoWriter, s: SizedRow): void {
  const { event, text } = s;
  w.string(TAG_STREAM_ID, event.streamId);
  if (s.sequence !== 0) {
    w.byte(TAG_SEQUENCE);
    w.varint(s.sequence);
  }
  w.string(TAG_EVENT_TYPE, event.eventType);
  if (event.version !== 0) {
    w.byte(TAG_VERSION);
    w.varint(event.version);
  }
  w.string(TAG_PAYLOAD, text.payload);
  writeMetadata(w, s.metadata, s.metadataSize);
  w.string(TAG_OCCURRED_AT, text.occurredAt);
  w.string(TAG_STORED_AT, text.storedAt);
  w.string(TAG_EVENT_ID, event.eventId);
}

/**
 * The body with the sequence written in its place: decoded where it ends up once the sequence is
 * in, then field 1 moved back before it.
 */
function writeWire(w: ProtoWriter, s: SizedWire): void {
  const { buf } = w;
  const start = w.pos;
  const sequenceSize = s.wire.sequence === 0 ? 0 : 1 + varintSize(s.wire.sequence);
  const bodyAt = start + sequenceSize;
  const bodyEnd = bodyAt + buf.write(s.wire.body, bodyAt, 'base64');
  if (sequenceSize !== 0) {
    const streamIdSize = streamIdFieldLength(buf, bodyAt);
    buf.copyWithin(start, bodyAt, bodyAt + streamIdSize);
    w.pos = start + streamIdSize;
    w.byte(TAG_SEQUENCE);
    w.varint(s.wire.sequence);
  }
  w.pos = bodyEnd;
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
    const wire = wireOf(event);
    let s: Sized;
    if (wire !== undefined) s = sizeOfWire(wire);
    else {
      const text = storedTextOf(event);
      if (text === undefined) return undefined;
      s = sizeOfRow(event, text);
    }
    sized[i] = s;
    total += 1 + varintSize(s.bodySize) + s.bodySize;
  }
  const tag = (fieldNo << 3) | WireType.LengthDelimited;
  const w = new ProtoWriter(Buffer.allocUnsafe(total));
  for (const s of sized) {
    w.byte(tag);
    w.varint(s.bodySize);
    if ('wire' in s) writeWire(w, s);
    else writeRow(w, s);
  }
  // The leading tag is toBinary's to write.
  return { no: fieldNo, wireType: WireType.LengthDelimited, data: w.buf.subarray(1, w.pos) };
}

/**
 * What an event adds to a batched message, roughly, for cutting batches (messageSized): a wire-read
 * event's body in bytes plus 50 for the fields around it, otherwise its payload text in UTF-16 units
 * (at most 3 UTF-8 bytes each) plus 200 for the other fields.
 */
export function approximateMessageBytes(event: StoredEvent): number {
  const wire = wireOf(event);
  if (wire !== undefined) return wireBodyBytes(wire.body) + 50;
  return (storedTextOf(event)?.payload ?? JSON.stringify(event.payload)).length + 200;
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
