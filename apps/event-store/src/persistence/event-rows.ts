import type { EventMetadata, JsonValue, StoredEvent } from '@k1s0/eventstore-domain';
import { type SQL, sql } from 'drizzle-orm';
import { events } from './schema.js';

/**
 * JSON columns are read as text and parsed here: postgres.js already parses jsonb and drizzle then
 * re-parses strings, which would turn a stored JSON string like "123" into the number 123.
 */
export const storedEventColumns = {
  sequence: events.sequence,
  streamId: events.streamId,
  eventId: events.eventId,
  eventType: events.eventType,
  version: events.version,
  payload: sql<string>`${events.payload}::text`,
  metadata: sql<string>`${events.metadata}::text`,
  occurredAt: events.occurredAt,
  storedAt: events.storedAt,
};

export interface StoredEventRow {
  sequence: bigint;
  streamId: string;
  eventId: string;
  eventType: string;
  version: number;
  payload: string;
  metadata: string;
  occurredAt: Date;
  storedAt: Date;
}

export function toStoredEvent(row: StoredEventRow): StoredEvent {
  return {
    streamId: row.streamId,
    sequence: BigInt(row.sequence),
    eventId: row.eventId,
    eventType: row.eventType,
    version: Number(row.version),
    payload: JSON.parse(row.payload) as JsonValue,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    occurredAt: row.occurredAt,
    storedAt: row.storedAt,
  };
}

/**
 * The same columns for raw postgres.js queries on the hot paths (no drizzle query building):
 * bigints as text, JSON as text (see above); timestamps arrive as text too, since drizzle replaced
 * the shared client's date parsers.
 */
export const RAW_STORED_EVENT_COLUMNS = `sequence::text as sequence, stream_id, event_id, event_type,
  version::text as version, payload::text as payload, metadata::text as metadata, occurred_at, stored_at`;

export interface RawStoredEventRow {
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

export function storedEventFromRaw(row: RawStoredEventRow): StoredEvent {
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

/** A JSON document as a jsonb literal, so JSON `null` stays a value rather than SQL NULL. */
export function jsonb(value: JsonValue | EventMetadata): SQL {
  return sql`${JSON.stringify(value)}::jsonb`;
}
