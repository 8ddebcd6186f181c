import { eventStoreErrors } from '../errors.js';
import { type EventStoreLimits, resolveLimits } from '../model/limits.js';
import type { StoredEvent } from '../model/stored-event.js';
import type { EventStore } from '../ports/event-store.js';
import { assertStreamInScope, type CallerScopes } from '../rules/scope.js';
import { checkStreamId } from '../rules/stream-id.js';
import { resolveStreamRead, type StreamReadParameters } from '../rules/stream-read-query.js';
import { Violations } from '../rules/violations.js';

export interface ReadEventsInput extends StreamReadParameters, CallerScopes {
  streamId: string;
}

export interface Pagination {
  totalCount: number;
  page: number;
  pageSize: number;
  hasNext: boolean;
}

export interface ReadEventsResult {
  streamId: string;
  /** Ascending by version. */
  events: StoredEvent[];
  currentVersion: number;
  pagination: Pagination;
}

export interface ReadEventsDeps {
  events: EventStore;
  limits?: Partial<EventStoreLimits>;
}

/** One page of a stream's events, filtered by version range and event type. Errors: VALIDATION_ERROR, STREAM_NOT_FOUND. */
export class ReadEvents {
  private readonly limits: EventStoreLimits;

  constructor(private readonly deps: ReadEventsDeps) {
    this.limits = resolveLimits(deps.limits);
  }

  async execute(input: ReadEventsInput): Promise<ReadEventsResult> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    const query = resolveStreamRead(violations, input, this.limits);
    violations.throwIfAny();
    assertStreamInScope(input.scopes, input.streamId);

    const page = await this.deps.events.readStream(input.streamId, {
      fromVersion: query.fromVersion,
      toVersion: query.toVersion,
      eventType: query.eventType,
      offset: query.offset,
      limit: query.pageSize,
    });
    if (page === null) throw eventStoreErrors.streamNotFound(input.streamId);
    return {
      streamId: input.streamId,
      events: page.events,
      currentVersion: page.stream.currentVersion,
      pagination: {
        totalCount: page.total,
        page: query.page,
        pageSize: query.pageSize,
        hasNext: query.offset + page.events.length < page.total,
      },
    };
  }
}
