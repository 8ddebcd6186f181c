import type { StoredEvent } from '@k1s0/eventstore-domain';
import type { OutboxMessage } from '@k1s0/platform';
import { formatTimestamp, sequenceNumber } from '../rest/presenters.js';

/**
 * The Kafka message for one stored event: key = stream id (per-stream order within a partition),
 * value = spec 002's JSON body plus `event_id` (an extension, the consumer's dedup key), and
 * headers so consumers can route and deduplicate without parsing the body.
 */
export function publishedMessage(event: StoredEvent, topic: string): OutboxMessage {
  const body = {
    event_type: 'EVENT_PUBLISHED',
    stream_id: event.streamId,
    sequence: sequenceNumber(event.sequence),
    domain_event_type: event.eventType,
    version: event.version,
    payload: event.payload,
    metadata: event.metadata,
    occurred_at: formatTimestamp(event.occurredAt),
    stored_at: formatTimestamp(event.storedAt),
    event_id: event.eventId,
  };
  return {
    topic,
    key: event.streamId,
    value: new TextEncoder().encode(JSON.stringify(body)),
    headers: {
      'event-id': event.eventId,
      sequence: event.sequence.toString(),
      'stream-id': event.streamId,
      'event-type': event.eventType,
    },
  };
}
