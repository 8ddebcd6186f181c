import { fromBinary } from '@bufbuild/protobuf';
import type { EventMetadata, JsonValue } from '@k1s0/eventstore-domain';
import { eventStoreV1 } from '@k1s0/proto';
import { optionalSize, ProtoWriter, stringFieldSize, utf8Length, varintSize } from './proto-writer.js';

/**
 * The wire body of a stored event (column `events.wire_event`, issue 13): the protobuf bytes of its
 * `StoredEvent` without `sequence` (field 2), the one value only the insert's ordered-log allocation
 * knows. The append writes it once; a gRPC read sends it as stored and writes only the sequence in
 * its place, so a page is copied, not decoded and encoded again per field.
 *
 * Layout: field 1 (stream_id), fields 3–9 — toBinary's order with 2 left out. A reader cuts it after
 * field 1 and gets the exact bytes toBinary writes for the whole event. stored_at (field 8) is the
 * batch's time, which the append also writes into the column (EventColumns), so body and column agree.
 *
 * The first release of the body (column `wire_body`, migration 0005) also left out stored_at, which
 * the read then selected and formatted per row; rows with only that column are read from their
 * columns (see event-rows.ts).
 */

// Tags (field number << 3 | wire type) of event_store.v1.StoredEvent and EventMetadata.
export const TAG_STREAM_ID = 0x0a;
export const TAG_SEQUENCE = 0x10;
export const TAG_EVENT_TYPE = 0x1a;
export const TAG_VERSION = 0x20;
export const TAG_PAYLOAD = 0x2a;
export const TAG_METADATA = 0x32;
export const TAG_OCCURRED_AT = 0x3a;
export const TAG_STORED_AT = 0x42;
export const TAG_EVENT_ID = 0x4a;
export const TAG_ACTOR_ID = 0x0a;
export const TAG_CORRELATION_ID = 0x12;
export const TAG_CAUSATION_ID = 0x1a;

const UUID_LENGTH = 36;
/** Field 9 at the end of every body: tag, length (36), the UUID's text. */
export const EVENT_ID_FIELD_BYTES = 2 + UUID_LENGTH;

/** An event's fields as its StoredEvent message carries them (texts in their wire form), but the version. */
export interface WireBodyFields {
  streamId: string;
  eventType: string;
  /** payload_json: the compact JSON text the ordinary mapping writes (see jsonbOrderedText). */
  payloadJson: string;
  metadata: EventMetadata;
  /** `2026-02-23T10:00:00.000+00:00` (formatTimestamp). */
  occurredAt: string;
  eventId: string;
}

/**
 * A body around the two values decided only in the append's batch, its version and stored_at:
 * `head` (fields 1 and 3) and `tail` (fields 5, 6, 7 and 9), made before the batch (wireBodyText).
 */
export interface WireBodyParts {
  head: Buffer;
  tail: Buffer;
}

// Module scope: runs per streamed event, and under tsx (keepNames) each closure created costs a defineProperty.
const textOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The three metadata fields gRPC carries (EventMetadata's actor_id, correlation_id, causation_id). */
export type WireMetadata = Pick<eventStoreV1.EventMetadata, 'actorId' | 'correlationId' | 'causationId'>;

/** Domain metadata → the gRPC fields: the well-known keys that hold text; others are not carried. */
export function wireMetadata(metadata: EventMetadata): WireMetadata {
  return {
    actorId: textOrUndefined(metadata.actor_id),
    correlationId: textOrUndefined(metadata.correlation_id),
    causationId: textOrUndefined(metadata.causation_id),
  };
}

/** The gRPC fields → domain metadata, the keys that are set. */
export function metadataFromWire(metadata: WireMetadata): EventMetadata {
  const out: EventMetadata = {};
  if (metadata.actorId !== undefined) out.actor_id = metadata.actorId;
  if (metadata.correlationId !== undefined) out.correlation_id = metadata.correlationId;
  if (metadata.causationId !== undefined) out.causation_id = metadata.causationId;
  return out;
}

export function metadataSize(m: WireMetadata): number {
  return optionalSize(m.actorId) + optionalSize(m.correlationId) + optionalSize(m.causationId);
}

/** Writes field 6 (always present, as the ordinary mapping sets it) from its parts. */
export function writeMetadata(w: ProtoWriter, m: WireMetadata, size: number): void {
  w.byte(TAG_METADATA);
  w.varint(size);
  w.optional(TAG_ACTOR_ID, m.actorId);
  w.optional(TAG_CORRELATION_ID, m.correlationId);
  w.optional(TAG_CAUSATION_ID, m.causationId);
}

/** undefined for an event id that is not a UUID's text (the database refuses the event anyway). */
export function wireBodyParts(e: WireBodyFields): WireBodyParts | undefined {
  if (e.eventId.length !== UUID_LENGTH) return undefined;
  const metadata = wireMetadata(e.metadata);
  const metaSize = metadataSize(metadata);
  const headSize = stringFieldSize(utf8Length(e.streamId)) + stringFieldSize(utf8Length(e.eventType));
  const tailSize =
    stringFieldSize(utf8Length(e.payloadJson)) +
    1 +
    varintSize(metaSize) +
    metaSize +
    stringFieldSize(e.occurredAt.length) +
    EVENT_ID_FIELD_BYTES;
  const w = new ProtoWriter(Buffer.allocUnsafe(headSize + tailSize));
  w.string(TAG_STREAM_ID, e.streamId);
  w.string(TAG_EVENT_TYPE, e.eventType);
  w.string(TAG_PAYLOAD, e.payloadJson);
  writeMetadata(w, metadata, metaSize);
  w.string(TAG_OCCURRED_AT, e.occurredAt);
  w.string(TAG_EVENT_ID, e.eventId);
  if (w.pos !== headSize + tailSize) throw new Error('wire body size mismatch');
  return { head: w.buf.subarray(0, headSize), tail: w.buf.subarray(headSize) };
}

/** Field 8 (stored_at) with its tag and length, once per batch: `2026-02-23T10:00:00.000+00:00`. */
export function storedAtField(wireTimestamp: string): Buffer {
  const w = new ProtoWriter(Buffer.allocUnsafe(stringFieldSize(wireTimestamp.length)));
  w.ascii(TAG_STORED_AT, wireTimestamp);
  return w.buf;
}

/**
 * The whole body as stored (base64): field 4 (version; proto3 leaves 0 out) between the parts, and
 * field 8 (`storedAt`, from storedAtField) before the tail's last field, the event id.
 */
export function wireBodyText(
  parts: WireBodyParts | undefined,
  version: number,
  storedAt: Buffer,
): string | null {
  if (parts === undefined) return null;
  const { head, tail } = parts;
  const w = new ProtoWriter(
    Buffer.allocUnsafe(head.length + 1 + varintSize(version) + tail.length + storedAt.length),
  );
  w.pos += head.copy(w.buf, 0);
  if (version !== 0) {
    w.byte(TAG_VERSION);
    w.varint(version);
  }
  const eventIdAt = tail.length - EVENT_ID_FIELD_BYTES;
  w.pos += tail.copy(w.buf, w.pos, 0, eventIdAt);
  w.pos += storedAt.copy(w.buf, w.pos);
  w.pos += tail.copy(w.buf, w.pos, eventIdAt);
  return w.buf.toString('base64', 0, w.pos);
}

/** Bytes of a body stored as base64 `text` (padded, no line breaks). */
export function wireBodyBytes(text: string): number {
  const n = text.length;
  const padding = n > 0 && text.charCodeAt(n - 1) === 0x3d ? (text.charCodeAt(n - 2) === 0x3d ? 2 : 1) : 0;
  return (n / 4) * 3 - padding;
}

/**
 * Bytes of field 1 (stream_id) at `at` in `buf`, a body's start: where `sequence` goes. 0 when the
 * body has no field 1 (an empty stream id, which proto3 leaves out).
 */
export function streamIdFieldLength(buf: Buffer, at: number): number {
  if (buf[at] !== TAG_STREAM_ID) return 0;
  let length = 0;
  let shift = 1;
  let i = at + 1;
  for (;;) {
    const b = buf[i++] as number;
    length += (b & 0x7f) * shift;
    if (b < 0x80) break;
    shift *= 128;
  }
  return i - at + length;
}

/** Base64 characters that hold field 1 of any body: tag, length (2 bytes) and up to 255 characters. */
const STREAM_ID_FIELD_BASE64 = Math.ceil((3 + 255) / 3) * 4;

/** The stream id of a body stored as base64 (field 1; '' if it has none), decoding only its start. */
export function wireBodyStreamId(text: string): string {
  const start = Buffer.from(
    text.length > STREAM_ID_FIELD_BASE64 ? text.slice(0, STREAM_ID_FIELD_BASE64) : text,
    'base64',
  );
  const end = streamIdFieldLength(start, 0);
  if (end === 0) return '';
  const lengthBytes = start[1]! < 0x80 ? 1 : 2;
  return start.toString('utf8', 1 + lengthBytes, end);
}

/** A body's fields as the domain has them (for the rare reader of a wire-read event's fields). */
export interface DecodedWireBody {
  streamId: string;
  eventType: string;
  version: number;
  payload: JsonValue;
  metadata: EventMetadata;
  occurredAt: Date;
  storedAt: Date;
  eventId: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeWireBody(text: string): DecodedWireBody {
  const message = fromBinary(eventStoreV1.StoredEventSchema, Buffer.from(text, 'base64'));
  return {
    streamId: message.streamId,
    eventType: message.eventType,
    version: Number(message.version),
    payload: JSON.parse(utf8.decode(message.payloadJson)) as JsonValue,
    metadata: message.metadata === undefined ? {} : metadataFromWire(message.metadata),
    occurredAt: new Date(message.occurredAt),
    storedAt: new Date(message.storedAt),
    eventId: message.eventId,
  };
}
