import { type EventStoreLimits, resolveLimits } from '../model/limits.js';
import type { EventStore, GlobalLogBatch } from '../ports/event-store.js';
import { resolveEventTypes, resolveFromSequence } from '../rules/global-log-query.js';
import { checkIntegerInRange } from '../rules/ranges.js';
import { Violations } from '../rules/violations.js';

export interface ReadAllInput {
  /** First sequence to return, inclusive; default 0 = from the beginning. */
  fromSequence?: bigint | undefined;
  /** 1..maxReadAllLimit (1000); default defaultReadAllLimit (100). */
  limit?: number | undefined;
  /** Exact event types; empty or absent = all. */
  eventTypes?: readonly string[] | undefined;
  /** How the caller's protocol names the filter in validation details (default gRPC's `event_types`). */
  eventTypesField?: 'event_types' | 'event_type' | undefined;
}

export interface ReadAllDeps {
  events: EventStore;
  limits?: Partial<EventStoreLimits>;
}

/**
 * One batch of the global log in sequence order (event replay). Pass `nextSequence` as the next
 * `fromSequence` to continue; an empty batch means "nothing more yet". Errors: VALIDATION_ERROR.
 */
export class ReadAll {
  private readonly limits: EventStoreLimits;

  constructor(private readonly deps: ReadAllDeps) {
    this.limits = resolveLimits(deps.limits);
  }

  async execute(input: ReadAllInput): Promise<GlobalLogBatch> {
    const violations = new Violations();
    const fromSequence = resolveFromSequence(violations, input.fromSequence);
    const limit = input.limit ?? this.limits.defaultReadAllLimit;
    checkIntegerInRange(violations, 'limit', limit, 1, this.limits.maxReadAllLimit);
    const eventTypes = resolveEventTypes(violations, input.eventTypes, input.eventTypesField);
    violations.throwIfAny();
    return this.deps.events.readAll({ fromSequence, limit, eventTypes });
  }
}
