import type { NewEvent, PreparedEvent } from '../model/new-event.js';
import type { EventMetadata } from '../model/stored-event.js';
import { checkStorableJson } from './storable-text.js';
import { checkTypeName } from './type-name.js';
import { isUuid, normalizeUuid } from './uuid.js';
import type { Violations } from './violations.js';

export interface PrepareEventsOptions {
  maxEventsPerAppend: number;
  /** Default `occurredAt`. */
  now: Date;
  /** Id for events submitted without one. */
  newEventId: () => string;
}

const WELL_KNOWN_METADATA_KEYS = ['actor_id', 'correlation_id', 'causation_id'] as const;

/**
 * Validates an append's events (count, types, ids, metadata) into `violations` and returns them
 * with defaults filled in. The result is meaningful only when no violation was recorded.
 */
export function prepareNewEvents(
  violations: Violations,
  events: readonly NewEvent[],
  options: PrepareEventsOptions,
): PreparedEvent[] {
  if (events.length === 0) {
    violations.add('events', 'at least one event is required');
    return [];
  }
  if (events.length > options.maxEventsPerAppend) {
    // Not validating each event of an oversized batch keeps the error short and the work bounded.
    violations.add('events', `at most ${options.maxEventsPerAppend} events per append`);
    return [];
  }
  const indexById = new Map<string, number>();
  return events.map((event, index) => {
    const prepared = prepareEvent(violations, event, `events[${index}]`, options);
    const earlier = indexById.get(prepared.eventId);
    if (earlier === undefined) {
      indexById.set(prepared.eventId, index);
    } else {
      violations.add(`events[${index}].event_id`, `duplicates events[${earlier}].event_id`);
    }
    return prepared;
  });
}

function prepareEvent(
  violations: Violations,
  event: NewEvent,
  field: string,
  options: PrepareEventsOptions,
): PreparedEvent {
  checkTypeName(violations, `${field}.event_type`, event.eventType);
  if (event.eventId !== undefined && !isUuid(event.eventId)) {
    violations.add(`${field}.event_id`, 'must be a UUID');
  }
  if (event.payload === undefined) {
    violations.add(`${field}.payload`, 'is required');
  } else {
    checkStorableJson(violations, `${field}.payload`, event.payload);
  }
  if (event.occurredAt !== undefined && Number.isNaN(event.occurredAt.getTime())) {
    violations.add(`${field}.occurred_at`, 'must be a valid timestamp');
  }
  return {
    eventId: normalizeUuid(event.eventId ?? options.newEventId()),
    eventType: event.eventType,
    payload: event.payload,
    metadata: checkedMetadata(violations, event.metadata, `${field}.metadata`),
    occurredAt: event.occurredAt ?? options.now,
  };
}

function checkedMetadata(
  violations: Violations,
  metadata: EventMetadata | undefined,
  field: string,
): EventMetadata {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    violations.add(field, 'must be a JSON object');
    return {};
  }
  checkStorableJson(violations, field, metadata);
  for (const key of WELL_KNOWN_METADATA_KEYS) {
    const value = metadata[key];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      violations.add(`${field}.${key}`, 'must be a string or null');
    }
  }
  return metadata;
}
