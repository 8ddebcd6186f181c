import type { EventStore, NewEventsSignal } from '@k1s0/eventstore-domain';
import {
  createRelayLoop,
  type Database,
  type DeadLetter,
  type DrainOutcome,
  type Logger,
  type Publisher,
  publishOrDeadLetter,
  type RelayTimingOptions,
  unavailableOrOriginal,
  unlessAborted,
} from '@k1s0/platform';
import { relayDeadLetters } from '../persistence/schema.js';
import { publishedMessage } from './published-message.js';
import { kafkaCheckpointName, relayCheckpoint } from './relay-checkpoint.js';
import type { RelayMetrics } from './relay-metrics.js';

export interface EventRelayOptions extends RelayTimingOptions {
  database: Database;
  /** The same readAll as event replay: horizon-bounded, so the relay never skips a late commit. */
  events: EventStore;
  newEvents: NewEventsSignal;
  publisher: Publisher;
  topic: string;
  logger: Logger;
  metrics?: RelayMetrics;
  /** Names the checkpoint row; default kafkaCheckpointName(topic). */
  checkpointName?: string;
  /** Replicas with the same key elect one active relay. Default 'event_store.kafka_relay'. */
  leaderLockKey?: string;
  /** Events per publish. Default 100. */
  batchSize?: number;
}

export interface EventRelay {
  /** Joins the leader election; the elected replica relays. */
  start(): void;
  /**
   * Publishes what is readable (if leading), retrying failed attempts, for at most `timeoutMs`
   * (default 5 s), then gives leadership up. The checkpoint keeps what was not acknowledged.
   */
  stop(timeoutMs?: number): Promise<void>;
  isLeader(): boolean;
}

/**
 * Relays the global event log to Kafka at least once, in sequence order, on the shared relay loop
 * (one leader, NOTIFY + poll wake-ups, backoff): each term resumes after the durable checkpoint,
 * reads batches with `EventStore.readAll`, publishes each batch and only then advances the
 * checkpoint. A failed batch is retried from the same position; a crash between ack and checkpoint
 * re-publishes (consumers deduplicate on `event-id`). An event the broker rejects for good
 * (publishOrDeadLetter) goes to `event_store.relay_dead_letters`, counted and logged at error
 * level, and the relay continues with the next one in order.
 */
export function createEventRelay(options: EventRelayOptions): EventRelay {
  const { database, events, newEvents, publisher, topic, metrics } = options;
  const batchSize = options.batchSize ?? 100;
  const checkpointName = options.checkpointName ?? kafkaCheckpointName(topic);
  const checkpoint = relayCheckpoint(database, checkpointName);
  const logger = options.logger.child({ relay: topic });
  // The next sequence to read; loaded from the checkpoint when a leadership term begins.
  let cursor = 1n;

  const drainOnce = async (signal: AbortSignal): Promise<DrainOutcome> => {
    const batch = await events.readAll({ fromSequence: cursor, limit: batchSize, eventTypes: [] });
    const last = batch.events.at(-1);
    if (last) {
      let deadLettered = 0;
      // A message the broker rejects for good is set aside, never retried in place (issue 10).
      const deadLetter = async ({ index, reason, error }: DeadLetter) => {
        const event = batch.events[index]!;
        try {
          await database.db
            .insert(relayDeadLetters)
            .values({
              relay: checkpointName,
              sequence: event.sequence,
              streamId: event.streamId,
              eventId: event.eventId,
              eventType: event.eventType,
              reason,
            })
            .onConflictDoNothing();
        } catch (dbError) {
          throw unavailableOrOriginal(dbError);
        }
        deadLettered++;
        metrics?.deadLetters.inc({ topic, reason });
        logger.error(
          {
            err: error,
            sequence: String(event.sequence),
            streamId: event.streamId,
            eventId: event.eventId,
            reason,
          },
          'relay dead-lettered an event the broker rejects permanently; publishing continues',
        );
      };
      await unlessAborted(
        publishOrDeadLetter(
          publisher,
          batch.events.map((event) => publishedMessage(event, topic)),
          deadLetter,
        ),
        signal,
      );
      await checkpoint.save(last.sequence);
      metrics?.published.inc({ topic }, batch.events.length - deadLettered);
    }
    cursor = batch.nextSequence;
    return batch.events.length < batchSize ? 'idle' : 'more';
  };

  const loop = createRelayLoop({
    ...options,
    leaderLockKey: options.leaderLockKey ?? 'event_store.kafka_relay',
    logger,
    listen: (wakeUp) => newEvents.subscribe(wakeUp),
    beginTerm: async () => {
      cursor = (await checkpoint.load()) + 1n;
    },
    drainOnce,
    onAttemptFailed: () => metrics?.errors.inc(),
  });
  let untrackLag: () => void = () => {};

  return {
    start() {
      loop.start();
      untrackLag = metrics?.trackLag(() => checkpoint.lag()) ?? untrackLag;
    },
    async stop(timeoutMs) {
      await loop.stop(timeoutMs);
      untrackLag();
    },
    isLeader: loop.isLeader,
  };
}
