import type { StoredEvent } from '../model/stored-event.js';
import type { EventStore, GlobalLogBatch } from '../ports/event-store.js';
import type { NewEventsSignal } from '../ports/new-events-signal.js';
import { resolveEventTypes, resolveFromSequence } from '../rules/global-log-query.js';
import { type CallerScopes, inScope, type Scopes } from '../rules/scope.js';
import { Violations } from '../rules/violations.js';
import { WakeUpLatch } from './wake-up-latch.js';

export interface SubscribeAllInput extends CallerScopes {
  /** First sequence to deliver, inclusive; default 0 = from the beginning. */
  fromSequence?: bigint | undefined;
  /** Exact event types; empty or absent = all. */
  eventTypes?: readonly string[] | undefined;
  /** Ends the subscription: iteration then finishes normally (no error) and the listener is removed. */
  signal?: AbortSignal | undefined;
}

export interface SubscribeAllDeps {
  events: EventStore;
  newEvents: NewEventsSignal;
  /** Re-read at least this often even without a wake-up (covers lost notifications); default 1000. */
  pollIntervalMs?: number;
  /** Events per readAll call; default 100. */
  batchSize?: number;
}

/**
 * The global log from a sequence: every existing event first (catch-up), then each new one as it
 * commits (live). Both phases are the same loop over `EventStore.readAll`, so the boundary has no gap
 * and no duplicate, and the never-skip guarantee of readAll carries over. Errors of readAll end the
 * iteration with that error. A scoped caller gets only events of streams in its scopes (SPEC §8);
 * the cursor still moves past the events left out.
 */
export class SubscribeAll {
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;

  constructor(private readonly deps: SubscribeAllDeps) {
    this.pollIntervalMs = deps.pollIntervalMs ?? 1000;
    this.batchSize = deps.batchSize ?? 100;
  }

  /** Validates at once (throws VALIDATION_ERROR); reading starts when iteration starts. */
  execute(input: SubscribeAllInput): AsyncIterable<StoredEvent> {
    return this.flatten(this.executeBatches(input), input.signal);
  }

  /**
   * The same log in the batches it is read in (each non-empty, in sequence order): for a delivery
   * that can send several events at once without paying a step of iteration per event.
   */
  executeBatches(input: SubscribeAllInput): AsyncIterable<readonly StoredEvent[]> {
    const violations = new Violations();
    const fromSequence = resolveFromSequence(violations, input.fromSequence);
    const eventTypes = resolveEventTypes(violations, input.eventTypes);
    violations.throwIfAny();
    return this.follow(fromSequence, eventTypes, input.scopes, input.signal);
  }

  private async *flatten(
    batches: AsyncIterable<readonly StoredEvent[]>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<StoredEvent> {
    for await (const batch of batches) {
      for (const event of batch) {
        if (signal?.aborted) return;
        yield event;
      }
    }
  }

  private async *follow(
    fromSequence: bigint,
    eventTypes: string[],
    scopes: Scopes,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<readonly StoredEvent[]> {
    const latch = new WakeUpLatch();
    // Listening before the first read means a commit racing with any read still wakes us up.
    const unsubscribe = this.deps.newEvents.subscribe(() => latch.notify());
    const read = (from: bigint): Promise<GlobalLogBatch> => {
      latch.reset();
      return this.deps.events.readAll({ fromSequence: from, limit: this.batchSize, eventTypes });
    };
    // The read of the next batch, started before the current one is handed on (catch-up only).
    let ahead: Promise<GlobalLogBatch> | undefined;
    try {
      let cursor = fromSequence;
      while (!signal?.aborted) {
        const batch = await (ahead ?? read(cursor));
        ahead = undefined;
        const visible =
          scopes === undefined ? batch.events : batch.events.filter((e) => inScope(scopes, e.streamId));
        // Wait only once a read makes no progress: any batch that moved the cursor may have left
        // more readable events behind it (a full batch, or an adapter that caps its scan).
        const caughtUp = batch.events.length === 0 && batch.nextSequence === cursor;
        cursor = batch.nextSequence;
        // Behind the head, the database reads the next batch while this one is encoded and sent
        // (issue 13): the cursor is already known, and the read resets the latch just as before.
        if (!caughtUp) {
          ahead = read(cursor);
          // Settled here if the consumer stops first; awaited (with its error) otherwise.
          ahead.catch(() => {});
        }
        if (visible.length > 0) {
          if (signal?.aborted) return;
          yield visible;
        }
        if (caughtUp) await latch.wait(this.pollIntervalMs, signal);
      }
    } finally {
      unsubscribe();
    }
  }
}
