import type { JsonValue } from './json.js';
import type { EventMetadata } from './stored-event.js';

/** An event as a client submits it for appending. */
export interface NewEvent {
  /** UUID; when given, makes a retried append idempotent. Generated when absent. */
  eventId?: string | undefined;
  eventType: string;
  payload: JsonValue;
  metadata?: EventMetadata | undefined;
  /** When the fact happened; defaults to the time of the append. */
  occurredAt?: Date | undefined;
}

/** A validated `NewEvent` with every default filled in: what the store port receives. */
export interface PreparedEvent {
  /** Lower-case UUID. */
  eventId: string;
  eventType: string;
  payload: JsonValue;
  metadata: EventMetadata;
  occurredAt: Date;
  /**
   * `payload` / `metadata` as JSON text, serialized once by the size check so the store does not
   * serialize again; absent when a caller built the event by hand (the store serializes then).
   */
  payloadJson?: string;
  metadataJson?: string;
}
