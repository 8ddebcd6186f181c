import { eventStoreErrors } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import { assertStreamInScope, type CallerScopes } from '../rules/scope.js';
import { checkStreamId } from '../rules/stream-id.js';
import { Violations } from '../rules/violations.js';

export interface DeleteStreamInput extends CallerScopes {
  streamId: string;
  /** The acting user from the token (email, else preferred_username, else sub); recorded. */
  actor: string;
}

export interface DeleteStreamResult {
  streamId: string;
  deletedEvents: number;
  deletedSnapshots: number;
  /** `stream <id> and all related data deleted` (spec 002). */
  message: string;
}

export interface DeleteStreamDeps {
  events: EventStore;
  clock: Clock;
}

/** Removes a stream with its events and snapshots, recording who did it. Errors: VALIDATION_ERROR, STREAM_NOT_FOUND. */
export class DeleteStream {
  constructor(private readonly deps: DeleteStreamDeps) {}

  async execute(input: DeleteStreamInput): Promise<DeleteStreamResult> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    violations.throwIfAny();
    assertStreamInScope(input.scopes, input.streamId);

    const deleted = await this.deps.events.deleteStream(input.streamId, {
      actor: input.actor,
      at: this.deps.clock.now(),
    });
    if (deleted === null) throw eventStoreErrors.streamNotFound(input.streamId);
    return {
      streamId: input.streamId,
      ...deleted,
      message: `stream ${input.streamId} and all related data deleted`,
    };
  }
}
