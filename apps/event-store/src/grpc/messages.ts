// Domain ⇄ protobuf messages of the gRPC API (spec 002): the gRPC twin of rest/presenters.ts.
import type { JsonValue, NewEvent, Snapshot, StoredEvent, Violations } from '@k1s0/eventstore-domain';
import type { eventStoreV1 } from '@k1s0/proto';
import { formatTimestamp } from '../timestamps.js';
import { metadataFromWire, wireMetadata } from '../wire/event-wire-body.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export function jsonBytes(value: JsonValue): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** `payload_json` / `state_json`: UTF-8 JSON text; anything else is recorded as a violation of `field`. */
export function parseJsonBytes(violations: Violations, field: string, bytes: Uint8Array): JsonValue {
  if (bytes.length === 0) {
    violations.add(field, 'is required (UTF-8 JSON)');
    return null;
  }
  try {
    return JSON.parse(utf8.decode(bytes)) as JsonValue;
  } catch {
    violations.add(field, 'must be valid UTF-8 JSON');
    return null;
  }
}

/** int64/uint64 → number; values beyond 2^53 stay unsafe so the domain's integer checks reject them. */
export function toNumber(value: bigint): number {
  return Number(value);
}

/** proto3 zero means "not set" for paging and range fields (page 0 → default 1, page_size 0 → default). */
export function unlessZero(value: number | bigint): number | undefined {
  return value === 0 || value === 0n ? undefined : Number(value);
}

/** EventData → NewEvent; malformed payload_json is collected into `violations` as `events[i].payload_json`. */
export function newEventsFromProto(violations: Violations, events: eventStoreV1.EventData[]): NewEvent[] {
  return events.map((event, index) => ({
    eventId: event.eventId,
    eventType: event.eventType,
    payload: parseJsonBytes(violations, `events[${index}].payload_json`, event.payloadJson),
    metadata: event.metadata === undefined ? undefined : metadataFromWire(event.metadata),
  }));
}

export function storedEventToProto(event: StoredEvent) {
  return {
    streamId: event.streamId,
    sequence: event.sequence,
    eventId: event.eventId,
    eventType: event.eventType,
    version: BigInt(event.version),
    payloadJson: jsonBytes(event.payload),
    metadata: wireMetadata(event.metadata),
    occurredAt: formatTimestamp(event.occurredAt),
    storedAt: formatTimestamp(event.storedAt),
  };
}

export function snapshotToProto(snapshot: Snapshot) {
  return {
    id: snapshot.id,
    streamId: snapshot.streamId,
    snapshotVersion: BigInt(snapshot.snapshotVersion),
    aggregateType: snapshot.aggregateType,
    stateJson: jsonBytes(snapshot.state),
    createdAt: formatTimestamp(snapshot.createdAt),
  };
}
