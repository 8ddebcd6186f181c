import type { JsonValue } from './json.js';

/**
 * Event metadata, stored verbatim as a JSON object. The three well-known keys keep the snake_case
 * names of the wire formats (REST, gRPC, Kafka) so the object can pass through unchanged; any other
 * keys a REST client sends are kept too (gRPC only carries the three well-known ones).
 */
export interface EventMetadata {
  actor_id?: string | null;
  correlation_id?: string | null;
  causation_id?: string | null;
  [key: string]: JsonValue | undefined;
}

/** An event as persisted (table `events`). Immutable once stored. */
export interface StoredEvent {
  streamId: string;
  /** Global, increasing across all streams; may have gaps. Postgres BIGINT, hence bigint. */
  sequence: bigint;
  /** UUID (lower case), client-supplied or generated; unique within the stream. */
  eventId: string;
  eventType: string;
  /** Position in the stream: 1, 2, 3… without gaps. */
  version: number;
  payload: JsonValue;
  metadata: EventMetadata;
  occurredAt: Date;
  storedAt: Date;
}
