import { eventStoreErrors } from '../errors.js';
import type { StoredEvent } from '../model/stored-event.js';
import type { EventStore } from '../ports/event-store.js';
import { checkSequenceInRange } from '../rules/ranges.js';
import { assertStreamInScope, type CallerScopes } from '../rules/scope.js';
import { checkStreamId } from '../rules/stream-id.js';
import { Violations } from '../rules/violations.js';

export interface ReadEventBySequenceInput extends CallerScopes {
  streamId: string;
  /** Global sequence, ≥ 1. */
  sequence: bigint;
}

export interface ReadEventBySequenceDeps {
  events: EventStore;
}

/** One event by its global sequence, only if it belongs to the given stream. Errors: VALIDATION_ERROR, EVENT_NOT_FOUND. */
export class ReadEventBySequence {
  constructor(private readonly deps: ReadEventBySequenceDeps) {}

  async execute(input: ReadEventBySequenceInput): Promise<StoredEvent> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    checkSequenceInRange(violations, 'sequence', input.sequence, 1n);
    violations.throwIfAny();
    assertStreamInScope(input.scopes, input.streamId);

    const event = await this.deps.events.readBySequence(input.sequence);
    // An event of another stream is reported as absent, so a stream id cannot be used to probe others.
    if (event === null || event.streamId !== input.streamId) {
      throw eventStoreErrors.eventNotFound(input.streamId, input.sequence);
    }
    return event;
  }
}
