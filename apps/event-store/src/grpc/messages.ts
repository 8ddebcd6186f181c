// Domain ⇄ protobuf messages of the gRPC API (spec 002): the gRPC twin of rest/presenters.ts.
import type {
  EventMetadata,
  JsonValue,
  NewEvent,
  Snapshot,
  StoredEvent,
  Violations,
} from '@k1s0/eventstore-domain';
import type { eventStoreV1 } from '@k1s0/proto';
import { formatTimestamp } from '../timestamps.js';

type ProtoMetadata = Pick<eventStoreV1.EventMetadata, 'actorId' | 'correlationId' | 'causationId'>;

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

function metadataFromProto(metadata: ProtoMetadata | undefined): EventMetadata | undefined {
  if (metadata === undefined) return undefined;
  const out: EventMetadata = {};
  if (metadata.actorId !== undefined) out.actor_id = metadata.actorId;
  if (metadata.correlationId !== undefined) out.correlation_id = metadata.correlationId;
  if (metadata.causationId !== undefined) out.causation_id = metadata.causationId;
  return out;
}

// Module scope: runs per streamed event, and under tsx (keepNames) each closure created costs a defineProperty.
const textOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

function metadataToProto(metadata: EventMetadata): ProtoMetadata {
  return {
    actorId: textOrUndefined(metadata.actor_id),
    correlationId: textOrUndefined(metadata.correlation_id),
    causationId: textOrUndefined(metadata.causation_id),
  };
}

/** EventData → NewEvent; malformed payload_json is collected into `violations` as `events[i].payload_json`. */
export function newEventsFromProto(violations: Violations, events: eventStoreV1.EventData[]): NewEvent[] {
  return events.map((event, index) => ({
    eventId: event.eventId,
    eventType: event.eventType,
    payload: parseJsonBytes(violations, `events[${index}].payload_json`, event.payloadJson),
    metadata: metadataFromProto(event.metadata),
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
    metadata: metadataToProto(event.metadata),
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
