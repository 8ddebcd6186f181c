import { setTimeout as sleep } from 'node:timers/promises';
import { asc, count, inArray } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import { type LeaderElection, startLeaderElection } from '../leader/leader-election.js';
import { outboxChannel } from './enqueue.js';
import { outboxMetrics } from './outbox-metrics.js';
import type { OutboxTable } from './outbox-table.js';
import type { Publisher } from './publisher.js';

export interface OutboxRelayOptions {
  database: Database;
  table: OutboxTable;
  publisher: Publisher;
  logger: Logger;
  /** Replicas with the same key elect one active relay, e.g. 'config_server.outbox_relay'. */
  leaderLockKey: string;
  /** Defaults to outboxChannel(table), the channel enqueueOutbox notifies. */
  channel?: string;
  /** Rows per publish call. Default 100. */
  batchSize?: number;
  /** Safety poll in case a notification was missed (e.g. while LISTEN reconnected). Default 5 s. */
  pollIntervalMs?: number;
  /** Backoff after a failed attempt doubles from `initialMs` up to `maxMs`. Default 200 ms → 10 s. */
  retryBackoff?: { initialMs: number; maxMs: number };
  /** How often a follower tries to take over. Default 2 s. */
  leaderRetryIntervalMs?: number;
  metrics?: Registry;
}

export interface OutboxRelay {
  /** Joins the leader election; the elected replica starts relaying. */
  start(): void;
  /**
   * Publishes what is left (if leading) for at most `timeoutMs` (default 5 s), then gives
   * leadership up. Rows not acknowledged by then stay in the outbox for the next leader.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Rows waiting in the outbox. */
  backlog(): Promise<number>;
  isLeader(): boolean;
}

/** Rejects as soon as `signal` aborts, without waiting for `work` (which is left to finish alone). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    // Always observed, so a late failure of abandoned work is not an unhandled rejection.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Relays outbox rows to the publisher, at least once, in id order: one replica leads (advisory
 * lock); it wakes on NOTIFY (and a slow poll), publishes a batch, and deletes the rows only
 * after the publisher acknowledged them. A failed batch is retried from the same first row
 * after a backoff, so nothing is lost or reordered.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { database, table, publisher, logger } = options;
  const channel = options.channel ?? outboxChannel(table);
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const backoff = options.retryBackoff ?? { initialMs: 200, maxMs: 10_000 };
  const { schema, name } = getTableConfig(table);
  const outboxName = `${schema ?? 'public'}.${name}`;
  const metrics = options.metrics ? outboxMetrics(options.metrics) : undefined;
  const log = logger.child({ outbox: outboxName });

  let flushing = false;
  let wakeUp: () => void = () => {};
  let woken = false;
  let leading: Promise<void> | undefined;

  const backlog = async () => {
    const [row] = await database.db.select({ rows: count() }).from(table);
    return row?.rows ?? 0;
  };

  /** Resolves on NOTIFY, after the poll interval, or when `signal` aborts. */
  const nextWake = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (woken) return resolve();
      const done = () => {
        clearTimeout(poll);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const poll = setTimeout(done, pollIntervalMs);
      signal.addEventListener('abort', done, { once: true });
      wakeUp = done;
    });

  /** Publishes one batch; resolves the number of rows relayed. */
  const relayBatch = async (signal: AbortSignal) => {
    const rows = await database.db.select().from(table).orderBy(asc(table.id)).limit(batchSize);
    if (rows.length === 0) return 0;
    await unlessAborted(
      publisher.publish(rows.map(({ topic, key, value, headers }) => ({ topic, key, value, headers }))),
      signal,
    );
    await database.db.delete(table).where(
      inArray(
        table.id,
        rows.map((row) => row.id),
      ),
    );
    for (const row of rows) metrics?.published.inc({ outbox: outboxName, topic: row.topic });
    return rows.length;
  };

  /** Relays until the outbox is empty; on failure backs off and retries the same rows. */
  const drain = async (signal: AbortSignal) => {
    let delay = backoff.initialMs;
    while (!signal.aborted) {
      try {
        const relayed = await relayBatch(signal);
        delay = backoff.initialMs;
        if (relayed < batchSize) return;
      } catch (error) {
        if (signal.aborted) return;
        metrics?.errors.inc({ outbox: outboxName });
        log.warn({ err: error, retryInMs: delay }, 'outbox relay attempt failed');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, backoff.maxMs);
      }
    }
  };

  const lead = async (signal: AbortSignal) => {
    const listener = await database.sql.listen(channel, () => {
      woken = true;
      wakeUp();
    });
    log.info('outbox relay active');
    try {
      while (!signal.aborted) {
        woken = false;
        await drain(signal);
        if (flushing) return;
        await nextWake(signal);
      }
    } finally {
      await listener.unlisten().catch(() => undefined);
    }
  };

  let election: LeaderElection | undefined;
  let untrackBacklog: () => void = () => {};

  return {
    start() {
      if (election) return;
      election = startLeaderElection({
        database,
        lockKey: options.leaderLockKey,
        retryIntervalMs: options.leaderRetryIntervalMs,
        logger: log,
        lead: (signal) => {
          leading = lead(signal);
          return leading;
        },
      });
      untrackBacklog = metrics?.trackBacklog(outboxName, backlog) ?? untrackBacklog;
    },
    async stop(timeoutMs = 5_000) {
      flushing = true;
      woken = true;
      wakeUp();
      if (leading) {
        const deadline = new AbortController();
        await Promise.race([
          leading.catch(() => undefined),
          sleep(timeoutMs, undefined, { signal: deadline.signal }).catch(() => undefined),
        ]);
        deadline.abort();
      }
      await election?.stop();
      untrackBacklog();
    },
    backlog,
    isLeader: () => election?.isLeader() ?? false,
  };
}
