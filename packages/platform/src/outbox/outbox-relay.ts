import { asc, count, inArray } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import { type DeadLetter, publishOrDeadLetter } from '../relay/dead-letter.js';
import {
  createRelayLoop,
  type DrainOutcome,
  type RelayTimingOptions,
  unlessAborted,
} from '../relay/relay-loop.js';
import { outboxChannel } from './enqueue.js';
import { outboxMetrics } from './outbox-metrics.js';
import type { OutboxDeadLetterTable, OutboxTable } from './outbox-table.js';
import type { Publisher } from './publisher.js';

export interface OutboxRelayOptions extends RelayTimingOptions {
  database: Database;
  table: OutboxTable;
  /**
   * Where rows the broker rejects for good go (then the relay continues with the next row). Without
   * it such a row is retried forever, like any failure.
   */
  deadLetters?: OutboxDeadLetterTable;
  publisher: Publisher;
  logger: Logger;
  /** Replicas with the same key elect one active relay, e.g. 'config_server.outbox_relay'. */
  leaderLockKey: string;
  /** Defaults to outboxChannel(table), the channel writers wake after a commit. */
  channel?: string;
  /** Rows per publish call. Default 100. */
  batchSize?: number;
  metrics?: Registry;
}

export interface OutboxRelay {
  /** Joins the leader election; the elected replica starts relaying. */
  start(): void;
  /**
   * Publishes what is left (if leading), retrying failed attempts, for at most `timeoutMs`
   * (default 5 s), then gives leadership up. Rows not acknowledged by then stay in the outbox.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Rows waiting in the outbox. */
  backlog(): Promise<number>;
  isLeader(): boolean;
}

/**
 * Relays outbox rows to the publisher, at least once, in id order, on the shared relay loop (one
 * leader, NOTIFY + slow poll wake-ups, backoff): a batch is read in id order and its rows are deleted
 * only after the publisher acknowledged them, so a failed batch is retried from the same first row.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { database, table, publisher } = options;
  const channel = options.channel ?? outboxChannel(table);
  const batchSize = options.batchSize ?? 100;
  const outboxName = outboxNameOf(table);
  const metrics = options.metrics ? outboxMetrics(options.metrics) : undefined;
  const logger = options.logger.child({ outbox: outboxName });
  const backlog = outboxBacklogReader(database, table);

  const drainOnce = async (signal: AbortSignal): Promise<DrainOutcome> => {
    const rows = await database.db.select().from(table).orderBy(asc(table.id)).limit(batchSize);
    if (rows.length > 0) {
      const messages = rows.map(({ topic, key, value, headers }) => ({ topic, key, value, headers }));
      const deadLettered = new Set<number>();
      const deadLetters = options.deadLetters;
      const deadLetter = async ({ index, reason, error }: DeadLetter) => {
        const row = rows[index]!;
        // Recorded before the outbox row is deleted below; a retried batch inserts it again: no-op.
        await database.db
          .insert(deadLetters!)
          .values({ ...row, reason })
          .onConflictDoNothing();
        deadLettered.add(index);
        metrics?.deadLetters.inc({ outbox: outboxName, reason });
        logger.error(
          { err: error, outboxId: String(row.id), topic: row.topic, key: row.key, reason },
          'outbox relay dead-lettered a message the broker rejects permanently; publishing continues',
        );
      };
      await unlessAborted(
        deadLetters ? publishOrDeadLetter(publisher, messages, deadLetter) : publisher.publish(messages),
        signal,
      );
      await database.db.delete(table).where(
        inArray(
          table.id,
          rows.map((row) => row.id),
        ),
      );
      rows.forEach((row, index) => {
        if (!deadLettered.has(index)) metrics?.published.inc({ outbox: outboxName, topic: row.topic });
      });
    }
    return rows.length < batchSize ? 'idle' : 'more';
  };

  const loop = createRelayLoop({
    ...options,
    logger,
    listen: async (wakeUp) => {
      const listener = await database.sql.listen(channel, wakeUp);
      return () => listener.unlisten();
    },
    drainOnce,
    onAttemptFailed: () => metrics?.errors.inc({ outbox: outboxName }),
  });
  let untrackBacklog: () => void = () => {};

  return {
    start() {
      loop.start();
      untrackBacklog = metrics?.trackBacklog(outboxName, backlog) ?? untrackBacklog;
    },
    async stop(timeoutMs) {
      await loop.stop(timeoutMs);
      untrackBacklog();
    },
    backlog,
    isLeader: loop.isLeader,
  };
}

/** `<schema>.<table>`, the `outbox` label of the relay metrics. */
function outboxNameOf(table: OutboxTable): string {
  const { schema, name } = getTableConfig(table);
  return `${schema ?? 'public'}.${name}`;
}

function outboxBacklogReader(database: Database, table: OutboxTable): () => Promise<number> {
  return async () => {
    const [row] = await database.db.select({ rows: count() }).from(table);
    return row?.rows ?? 0;
  };
}

/**
 * Reports the `outbox_backlog` gauge (and the relay counters, at 0) for an outbox whose relay is
 * off — no brokers configured, events accumulate (SPEC §2) — which is when the backlog matters
 * most (SPEC §7). Returns the unregister function.
 */
export function trackOutboxBacklog(registry: Registry, database: Database, table: OutboxTable): () => void {
  return outboxMetrics(registry).trackBacklog(outboxNameOf(table), outboxBacklogReader(database, table));
}
