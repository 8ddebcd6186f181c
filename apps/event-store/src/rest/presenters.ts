// Domain → REST JSON bodies (spec 002), typed by the response schemas. The timestamp and sequence
// forms are also those of the Kafka message (relay/published-message.ts) and gRPC timestamps.
import type { Snapshot, StoredEvent } from '@k1s0/eventstore-domain';
import type { z } from 'zod';
import { formatTimestamp } from '../timestamps.js';
import type { createdSnapshotSchema, eventSchema, snapshotSchema } from './response-schemas.js';

export { formatTimestamp };

/**
 * A sequence as a JSON number (spec 002 shows numbers). Sequences stay far below 2^53 in practice;
 * the gRPC API carries them as uint64 without loss.
 */
export function sequenceNumber(sequence: bigint): number {
  return Number(sequence);
}

/** The event object of spec 002's REST bodies (plus `event_id`, an extension). */
export function eventJson(event: StoredEvent): z.input<typeof eventSchema> {
  return {
    stream_id: event.streamId,
    sequence: sequenceNumber(event.sequence),
    event_id: event.eventId,
    event_type: event.eventType,
    version: event.version,
    payload: event.payload,
    metadata: event.metadata,
    occurred_at: formatTimestamp(event.occurredAt),
    stored_at: formatTimestamp(event.storedAt),
  };
}

/** POST …/snapshots 201 body (spec 002). */
export function createdSnapshotJson(snapshot: Snapshot): z.input<typeof createdSnapshotSchema> {
  return {
    id: snapshot.id,
    stream_id: snapshot.streamId,
    snapshot_version: snapshot.snapshotVersion,
    aggregate_type: snapshot.aggregateType,
    created_at: formatTimestamp(snapshot.createdAt),
  };
}

/** GET …/snapshots/latest body (spec 002). */
export function snapshotJson(snapshot: Snapshot): z.input<typeof snapshotSchema> {
  return {
    id: snapshot.id,
    stream_id: snapshot.streamId,
    snapshot_version: snapshot.snapshotVersion,
    aggregate_type: snapshot.aggregateType,
    state: snapshot.state,
    created_at: formatTimestamp(snapshot.createdAt),
  };
}
