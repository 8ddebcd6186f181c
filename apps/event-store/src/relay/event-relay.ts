import type { EventStore, NewEventsSignal } from '@k1s0/eventstore-domain';
import {
  createRelayLoop,
  type Database,
  type DrainOutcome,
  type Logger,
  type Publisher,
  type RelayTimingOptions,
  unlessAborted,
} from '@k1s0/platform';
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
 * re-publishes (consumers deduplicate on `event-id`).
 */
export function createEventRelay(options: EventRelayOptions): EventRelay {
  const { database, events, newEvents, publisher, topic, metrics } = options;
  const batchSize = options.batchSize ?? 100;
  const checkpoint = relayCheckpoint(database, options.checkpointName ?? kafkaCheckpointName(topic));
  // The next sequence to read; loaded from the checkpoint when a leadership term begins.
  let cursor = 1n;

  const drainOnce = async (signal: AbortSignal): Promise<DrainOutcome> => {
    const batch = await events.readAll({ fromSequence: cursor, limit: batchSize, eventTypes: [] });
    const last = batch.events.at(-1);
    if (last) {
      await unlessAborted(
        publisher.publish(batch.events.map((event) => publishedMessage(event, topic))),
        signal,
      );
      await checkpoint.save(last.sequence);
      metrics?.published.inc({ topic }, batch.events.length);
    }
    cursor = batch.nextSequence;
    return batch.events.length < batchSize ? 'idle' : 'more';
  };

  const loop = createRelayLoop({
    ...options,
    leaderLockKey: options.leaderLockKey ?? 'event_store.kafka_relay',
    logger: options.logger.child({ relay: topic }),
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
