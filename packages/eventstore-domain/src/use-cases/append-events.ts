import { eventStoreErrors } from '../errors.js';
import { type EventStoreLimits, resolveLimits } from '../model/limits.js';
import type { NewEvent } from '../model/new-event.js';
import type { StoredEvent } from '../model/stored-event.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import { checkExpectedVersion } from '../rules/expected-version.js';
import { prepareNewEvents } from '../rules/new-events.js';
import { assertStreamInScope, type CallerScopes } from '../rules/scope.js';
import { type SizeLimits, sizedEvents } from '../rules/sizes.js';
import { checkStreamId, defaultAggregateType } from '../rules/stream-id.js';
import { checkTypeName } from '../rules/type-name.js';
import { Violations } from '../rules/violations.js';

export interface AppendEventsInput extends CallerScopes {
  streamId: string;
  /** n ≥ 0 exact, -1 = stream must not exist, -2 = any. */
  expectedVersion: number;
  events: readonly NewEvent[];
  /** Only used when the append creates the stream; default: `defaultAggregateType(streamId)`. */
  aggregateType?: string | undefined;
}

export interface AppendEventsResult {
  streamId: string;
  /** The stored events in version order (for a replay: those of the original append). */
  events: StoredEvent[];
  /** Version of the last event of this append (for a replay: as originally answered). */
  currentVersion: number;
  /** True when the request was recognised as a retry and nothing new was stored. */
  replayed: boolean;
}

export interface AppendEventsDeps {
  events: EventStore;
  clock: Clock;
  ids: IdGenerator;
  limits?: Partial<EventStoreLimits>;
}

/**
 * Appends 1..maxEventsPerAppend events to a stream under optimistic concurrency (SPEC §6).
 * Errors: VALIDATION_ERROR, PAYLOAD_TOO_LARGE, VERSION_CONFLICT, STREAM_ALREADY_EXISTS, DUPLICATE_EVENT_ID.
 */
export class AppendEvents {
  private readonly maxEventsPerAppend: number;
  private readonly sizeLimits: SizeLimits;

  constructor(private readonly deps: AppendEventsDeps) {
    const limits = resolveLimits(deps.limits);
    this.maxEventsPerAppend = limits.maxEventsPerAppend;
    this.sizeLimits = limits;
  }

  async execute(input: AppendEventsInput): Promise<AppendEventsResult> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    checkExpectedVersion(violations, input.expectedVersion);
    if (input.aggregateType !== undefined) checkTypeName(violations, 'aggregate_type', input.aggregateType);
    const events = prepareNewEvents(violations, input.events, {
      maxEventsPerAppend: this.maxEventsPerAppend,
      now: this.deps.clock.now(),
      newEventId: () => this.deps.ids.newId(),
    });
    violations.throwIfAny();
    assertStreamInScope(input.scopes, input.streamId);
    // Before the write (REST's body limit is only a first, transport-level bound).
    const sized = sizedEvents(events, this.sizeLimits);

    const outcome = await this.deps.events.append({
      streamId: input.streamId,
      expectedVersion: input.expectedVersion,
      events: sized,
      aggregateType: input.aggregateType ?? defaultAggregateType(input.streamId),
    });
    switch (outcome.kind) {
      case 'appended':
      case 'duplicate':
        return {
          streamId: input.streamId,
          events: outcome.events,
          currentVersion: outcome.currentVersion,
          replayed: outcome.kind === 'duplicate',
        };
      case 'version_conflict':
        throw eventStoreErrors.versionConflict(input.streamId, input.expectedVersion, outcome.actualVersion);
      case 'stream_exists':
        throw eventStoreErrors.streamAlreadyExists(input.streamId, outcome.actualVersion);
      case 'event_id_conflict':
        throw eventStoreErrors.duplicateEventId(
          input.streamId,
          outcome.index,
          outcome.eventId,
          outcome.storedVersion,
        );
    }
  }
}
