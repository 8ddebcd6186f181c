import { type EventStoreLimits, resolveLimits } from '../model/limits.js';
import type { EventStore, GlobalLogBatch } from '../ports/event-store.js';
import { resolveEventTypes, resolveFromSequence } from '../rules/global-log-query.js';
import { checkIntegerInRange } from '../rules/ranges.js';
import { type CallerScopes, inScope, type Scopes } from '../rules/scope.js';
import { Violations } from '../rules/violations.js';

export interface ReadAllInput extends CallerScopes {
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
 *
 * A scoped caller gets only events of streams in its scopes (SPEC §8: left out silently), with the
 * same guarantees: `nextSequence` moves past the events left out, no event in scope is skipped,
 * and an empty batch still means "nothing more yet" (see readInScope).
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
    if (input.scopes === undefined) return this.deps.events.readAll({ fromSequence, limit, eventTypes });
    return this.readInScope(fromSequence, limit, eventTypes, input.scopes);
  }

  /**
   * Reads in the largest batches allowed until one holds an event in scope, or the log has nothing
   * more: so a caller that stops at an empty batch (as clients do) never stops early just because a
   * stretch of the log belongs to other streams. Every round moves the cursor forward, so this ends.
   */
  private async readInScope(
    fromSequence: bigint,
    limit: number,
    eventTypes: string[],
    scopes: NonNullable<Scopes>,
  ): Promise<GlobalLogBatch> {
    const scanLimit = Math.max(limit, this.limits.maxReadAllLimit);
    let cursor = fromSequence;
    for (;;) {
      const batch = await this.deps.events.readAll({ fromSequence: cursor, limit: scanLimit, eventTypes });
      const visible = batch.events.filter((event) => inScope(scopes, event.streamId));
      const last = visible[limit - 1];
      if (visible.length > limit && last !== undefined) {
        // More than asked for: stop after the last one returned; the rest is read again next time.
        return { events: visible.slice(0, limit), nextSequence: last.sequence + 1n };
      }
      if (visible.length > 0 || batch.events.length === 0) {
        return { events: visible, nextSequence: batch.nextSequence };
      }
      cursor = batch.nextSequence;
    }
  }
}
