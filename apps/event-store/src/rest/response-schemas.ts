import { z } from 'zod';

// Response bodies of the REST API as documented in /openapi.json; presenters.ts returns exactly
// these shapes (its return types are z.input of these schemas).

const timestamp = z.string().meta({ description: 'RFC 3339, e.g. 2026-02-23T10:00:00.000+00:00' });
const jsonValue = z.unknown().meta({ description: 'Any JSON value' });

export const eventSchema = z
  .object({
    stream_id: z.string(),
    sequence: z.int().meta({ description: 'Global, increasing position in the event log' }),
    event_id: z.string().meta({ description: 'Client-chosen UUID for idempotent appends' }),
    event_type: z.string(),
    version: z.int().meta({ description: 'Position in the stream: 1, 2, 3… without gaps' }),
    payload: jsonValue,
    metadata: z.record(z.string(), jsonValue),
    occurred_at: timestamp,
    stored_at: timestamp,
  })
  .meta({ id: 'Event' });

export const paginationSchema = z
  .object({ total_count: z.int(), page: z.int(), page_size: z.int(), has_next: z.boolean() })
  .meta({ id: 'Pagination' });

export const appendResponse = z.object({
  stream_id: z.string(),
  events: z.array(eventSchema),
  current_version: z.int(),
});

export const readEventsResponse = appendResponse.extend({ pagination: paginationSchema });

export const readAllResponse = z.object({
  events: z.array(eventSchema),
  next_sequence: z.int().meta({ description: 'Pass as the next from_sequence' }),
});

export const createdSnapshotSchema = z.object({
  id: z.string(),
  stream_id: z.string(),
  snapshot_version: z.int(),
  aggregate_type: z.string(),
  created_at: timestamp,
});

export const snapshotSchema = createdSnapshotSchema.extend({ state: jsonValue }).meta({ id: 'Snapshot' });

export const deleteStreamResponse = z.object({ success: z.literal(true), message: z.string() });
