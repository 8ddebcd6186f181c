/**
 * Peer workloads: Emmett (@event-driven-io/emmett-postgresql), the in-process event store a user
 * would pick instead of running k1s0, with its own pg pool against the bench's PostgreSQL. Started
 * pinned to the service CPU (bench/workloads/peers.ts): library and service get the same core.
 */

import { isExpectedVersionConflictError, STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import type { LoadResult } from '../lib/load-result.js';
import { runClosedLoop } from './closed-loop.js';
import { ORDER_PAYLOAD } from './raw-postgres.js';
import type { LoadTask } from './tasks.js';

type Task<K extends LoadTask['kind']> = Extract<LoadTask, { kind: K }>;

const orderPlaced = () => ({ type: 'OrderPlaced', data: ORDER_PAYLOAD });

function store(url: string) {
  return getPostgreSQLEventStore(url, { schema: { autoMigration: 'CreateOrUpdate' } });
}

/**
 * `writers` closed-loop appenders of one event. `hot`: all on one stream, each with the version it
 * last saw (Emmett does not report the actual version on a conflict, so writers share the newest
 * version any of them has seen, as an in-process cache would); counts successful appends only.
 * Otherwise each writer owns a stream and appends without a version check (k1s0's -2).
 */
export async function emmettAppend(task: Task<'emmett-append'>): Promise<LoadResult> {
  const eventStore = store(task.url);
  let newest = 0n;
  const seen = new Array<bigint | undefined>(task.writers).fill(undefined);
  try {
    // Schema migration outside the measured window.
    await eventStore.appendToStream(`${task.streamPrefix}-init`, [orderPlaced()]);
    return await runClosedLoop({
      concurrency: task.writers,
      warmupMs: task.warmupMs,
      durationMs: task.durationMs,
      op: async (worker) => {
        if (!task.hot) {
          await eventStore.appendToStream(`${task.streamPrefix}-${worker}`, [orderPlaced()]);
          return 1;
        }
        const expected = seen[worker] ?? newest;
        try {
          const result = await eventStore.appendToStream(`${task.streamPrefix}-hot`, [orderPlaced()], {
            expectedStreamVersion: expected === 0n ? STREAM_DOES_NOT_EXIST : expected,
          });
          seen[worker] = result.nextExpectedStreamVersion;
          if (result.nextExpectedStreamVersion > newest) newest = result.nextExpectedStreamVersion;
          return 1;
        } catch (error) {
          if (!isExpectedVersionConflictError(error)) throw error;
          seen[worker] = newest;
          return 0;
        }
      },
    });
  } finally {
    await eventStore.close();
  }
}

/** readStream of one `events`-event stream (seeded first, outside the window) by `concurrency` readers. */
export async function emmettReadStream(task: Task<'emmett-read-stream'>): Promise<LoadResult> {
  const eventStore = store(task.url);
  const streamName = `${task.streamPrefix}-read`;
  try {
    for (let written = 0; written < task.events; written += 100) {
      const count = Math.min(100, task.events - written);
      await eventStore.appendToStream(streamName, Array.from({ length: count }, orderPlaced));
    }
    return await runClosedLoop({
      concurrency: task.concurrency,
      warmupMs: task.warmupMs,
      durationMs: task.durationMs,
      op: async () => {
        const { events } = await eventStore.readStream(streamName);
        if (events.length !== task.events) throw new Error(`read ${events.length} of ${task.events} events`);
        return events.length;
      },
    });
  } finally {
    await eventStore.close();
  }
}
