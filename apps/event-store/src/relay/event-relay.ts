import { setTimeout as sleep } from 'node:timers/promises';
import { type EventStore, type NewEventsSignal, WakeUpLatch } from '@k1s0/eventstore-domain';
import {
  type Database,
  type LeaderElection,
  type Logger,
  type Publisher,
  startLeaderElection,
} from '@k1s0/platform';
import { publishedMessage } from './published-message.js';
import { relayCheckpoint } from './relay-checkpoint.js';
import type { RelayMetrics } from './relay-metrics.js';

export interface EventRelayOptions {
  database: Database;
  /** The same readAll as event replay: horizon-bounded, so the relay never skips a late commit. */
  events: EventStore;
  newEvents: NewEventsSignal;
  publisher: Publisher;
  topic: string;
  logger: Logger;
  metrics?: RelayMetrics;
  /** Names the checkpoint row; default `kafka:<topic>`. */
  checkpointName?: string;
  /** Replicas with the same key elect one active relay. Default 'event_store.kafka_relay'. */
  leaderLockKey?: string;
  /** Events per publish. Default 100. */
  batchSize?: number;
  /** Re-read at least this often without a NOTIFY (e.g. after a rolled-back transaction). Default 5 s. */
  pollIntervalMs?: number;
  /** Backoff after a failed attempt doubles from initialMs up to maxMs. Default 200 ms → 10 s. */
  retryBackoff?: { initialMs: number; maxMs: number };
  /** How often a follower tries to take over. Default 2 s. */
  leaderRetryIntervalMs?: number;
}

export interface EventRelay {
  /** Joins the leader election; the elected replica relays. */
  start(): void;
  /** Publishes what is readable (if leading) for at most `timeoutMs`, then gives leadership up. */
  stop(timeoutMs?: number): Promise<void>;
  isLeader(): boolean;
}

/** Rejects as soon as `signal` aborts, without waiting for `work` (whose late failure is still observed). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Relays the global event log to Kafka at least once, in sequence order: one replica leads (advisory
 * lock); it resumes after its durable checkpoint, reads batches with `EventStore.readAll`, publishes
 * each batch and only then advances the checkpoint. A failed batch is retried from the same position
 * after a backoff, so nothing is lost or reordered; a crash between ack and checkpoint re-publishes
 * (consumers deduplicate on `event-id`).
 */
export function createEventRelay(options: EventRelayOptions): EventRelay {
  const { database, events, newEvents, publisher, topic, metrics } = options;
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const backoff = options.retryBackoff ?? { initialMs: 200, maxMs: 10_000 };
  const checkpoint = relayCheckpoint(database, options.checkpointName ?? `kafka:${topic}`);
  const log = options.logger.child({ relay: topic });
  const latch = new WakeUpLatch();
  let flushing = false;
  let leading: Promise<void> | undefined;
  let election: LeaderElection | undefined;
  let untrackLag: () => void = () => {};

  /** Publishes one batch from `cursor`; returns the next cursor and whether the log is drained. */
  const relayBatch = async (cursor: bigint, signal: AbortSignal) => {
    const batch = await events.readAll({ fromSequence: cursor, limit: batchSize, eventTypes: [] });
    const last = batch.events[batch.events.length - 1];
    if (last) {
      await unlessAborted(
        publisher.publish(batch.events.map((event) => publishedMessage(event, topic))),
        signal,
      );
      await checkpoint.save(last.sequence);
      metrics?.published.inc({ topic }, batch.events.length);
    }
    return { next: batch.nextSequence, drained: batch.events.length < batchSize };
  };

  const lead = async (signal: AbortSignal) => {
    // Subscribed before the first read, so a commit racing with any read still wakes the loop.
    const unsubscribe = newEvents.subscribe(() => latch.notify());
    log.info('event relay active');
    try {
      let cursor = (await checkpoint.load()) + 1n;
      let delay = backoff.initialMs;
      while (!signal.aborted) {
        latch.reset();
        try {
          const { next, drained } = await relayBatch(cursor, signal);
          cursor = next;
          delay = backoff.initialMs;
          if (!drained) continue;
          if (flushing) return;
          await latch.wait(pollIntervalMs, signal);
        } catch (error) {
          if (signal.aborted || flushing) return;
          metrics?.errors.inc();
          log.warn({ err: error, retryInMs: delay }, 'event relay attempt failed');
          await sleep(delay, undefined, { signal }).catch(() => undefined);
          delay = Math.min(delay * 2, backoff.maxMs);
        }
      }
    } finally {
      unsubscribe();
    }
  };

  return {
    start() {
      if (election) return;
      flushing = false;
      election = startLeaderElection({
        database,
        lockKey: options.leaderLockKey ?? 'event_store.kafka_relay',
        retryIntervalMs: options.leaderRetryIntervalMs,
        logger: log,
        lead: (signal) => {
          leading = lead(signal);
          return leading;
        },
      });
      untrackLag = metrics?.trackLag(() => checkpoint.lag()) ?? untrackLag;
    },
    async stop(timeoutMs = 5_000) {
      flushing = true;
      latch.notify();
      if (leading) {
        const deadline = new AbortController();
        await Promise.race([
          leading.catch(() => undefined),
          sleep(timeoutMs, undefined, { signal: deadline.signal }).catch(() => undefined),
        ]);
        deadline.abort();
      }
      await election?.stop();
      election = undefined;
      leading = undefined;
      untrackLag();
    },
    isLeader: () => election?.isLeader() ?? false,
  };
}
