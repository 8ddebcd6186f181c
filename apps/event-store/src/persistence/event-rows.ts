import type { EventMetadata, JsonValue, StoredEvent } from '@k1s0/eventstore-domain';

/**
 * `event_store.events` as StoredEventRow reads it. Bigints as text; JSON as text, parsed here, so
 * what comes back is exactly the stored document whatever parsers the shared client has (drizzle
 * re-parses jsonb strings: a stored JSON string "123" would become the number 123); timestamps
 * arrive as text too, since drizzle, sharing this postgres.js client, replaced its date parsers.
 */
export const STORED_EVENT_COLUMNS = `sequence::text as sequence, stream_id, event_id, event_type,
  version::text as version, payload::text as payload, metadata::text as metadata, occurred_at, stored_at`;

export interface StoredEventRow {
  sequence: string;
  stream_id: string;
  event_id: string;
  event_type: string;
  version: string;
  payload: string;
  metadata: string;
  occurred_at: string | Date;
  stored_at: string | Date;
}

const asDate = (value: string | Date): Date => (value instanceof Date ? value : new Date(value));

export function toStoredEvent(row: StoredEventRow): StoredEvent {
  return {
    streamId: row.stream_id,
    sequence: BigInt(row.sequence),
    eventId: row.event_id,
    eventType: row.event_type,
    version: Number(row.version),
    payload: JSON.parse(row.payload) as JsonValue,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    occurredAt: asDate(row.occurred_at),
    storedAt: asDate(row.stored_at),
  };
}
