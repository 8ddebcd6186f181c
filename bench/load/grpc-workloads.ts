import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { ConfigService, EventStoreService } from '@k1s0/proto';
import type { LoadResult } from '../lib/load-result.js';
import { runClosedLoop } from './closed-loop.js';
import { grpcClients } from './grpc-client.js';
import { catchUpPasses, ORDER_PAYLOAD } from './raw-postgres.js';
import type { LoadTask } from './tasks.js';

type Task<K extends LoadTask['kind']> = Extract<LoadTask, { kind: K }>;

const payloadBytes = new TextEncoder().encode(JSON.stringify(ORDER_PAYLOAD));

export async function grpcGetConfig(task: Task<'grpc-get-config'>): Promise<LoadResult> {
  const clients = grpcClients(ConfigService, task.grpcUrl, task.token, task.connections);
  return runClosedLoop({
    concurrency: task.concurrency,
    warmupMs: task.warmupMs,
    durationMs: task.durationMs,
    op: async (worker) => {
      const { entry } = await clients[worker % clients.length]!.getConfig({
        namespace: task.namespace,
        key: task.key,
      });
      if (!entry) throw new Error('GetConfig returned no entry');
      return 1;
    },
  });
}

/** ReadEvents page by page (1..pages, then again); throughput counts events. */
export async function grpcReadStream(task: Task<'grpc-read-stream'>): Promise<LoadResult> {
  const clients = grpcClients(EventStoreService, task.grpcUrl, task.token, task.connections);
  const nextPage = new Array<number>(task.concurrency).fill(0);
  return runClosedLoop({
    concurrency: task.concurrency,
    warmupMs: task.warmupMs,
    durationMs: task.durationMs,
    op: async (worker) => {
      const page = nextPage[worker]!;
      nextPage[worker] = (page + 1) % task.pages;
      const response = await clients[worker % clients.length]!.readEvents({
        streamId: task.streamId,
        fromVersion: 1n,
        page: page + 1,
        pageSize: task.pageSize,
      });
      if (response.events.length !== task.pageSize) {
        throw new Error(
          `page ${page + 1} returned ${response.events.length} events, expected ${task.pageSize}`,
        );
      }
      return response.events.length;
    },
  });
}

/**
 * `writers` appenders of one event on ONE stream, each with the version it last saw (after a
 * conflict: the newest version any writer of this process has seen, the same rule as the Emmett
 * peer); throughput counts successful appends only.
 */
export async function grpcHotStream(task: Task<'grpc-hot-stream'>): Promise<LoadResult> {
  const clients = grpcClients(EventStoreService, task.grpcUrl, task.token, task.connections);
  let newest = 0n;
  const seen = new Array<bigint | undefined>(task.writers).fill(undefined);
  return runClosedLoop({
    concurrency: task.writers,
    warmupMs: task.warmupMs,
    durationMs: task.durationMs,
    op: async (worker) => {
      try {
        const response = await clients[worker % clients.length]!.appendEvents({
          streamId: task.streamId,
          expectedVersion: seen[worker] ?? newest,
          events: [{ eventType: 'OrderPlaced', payloadJson: payloadBytes }],
        });
        seen[worker] = response.currentVersion;
        if (response.currentVersion > newest) newest = response.currentVersion;
        return 1;
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Aborted) throw error;
        seen[worker] = newest;
        return 0;
      }
    },
  });
}

/** SubscribeAll from the beginning until `total` events arrived, repeated (see catchUpPasses). */
export async function grpcCatchUp(task: Task<'grpc-catch-up'>): Promise<LoadResult> {
  const [client] = grpcClients(EventStoreService, task.grpcUrl, task.token, 1);
  return catchUpPasses(task, async (deadline) => {
    const abort = new AbortController();
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => abort.abort(), Math.max(0, deadline - performance.now()))
      : undefined;
    let read = 0;
    let last = 0n;
    try {
      const request = { fromSequence: 0n, batch: task.batch };
      for await (const message of client!.subscribeAll(request, { signal: abort.signal })) {
        const events = message.event ? [message.event] : message.events;
        if (events.length === 0) throw new Error('SubscribeAll sent a message without events');
        for (const { sequence } of events) {
          if (sequence <= last) throw new Error(`SubscribeAll went backwards: ${sequence} after ${last}`);
          last = sequence;
        }
        read += events.length;
        if (read >= task.total) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return read;
  });
}

/** Seeds `streams` streams of `eventsPerStream` events through AppendEvents, `concurrency` streams at a time. */
export async function grpcSeedStreams(task: Task<'grpc-seed-streams'>): Promise<LoadResult> {
  const clients = grpcClients(EventStoreService, task.grpcUrl, task.token, Math.min(4, task.concurrency));
  const start = performance.now();
  let next = 0;
  let appends = 0;
  const worker = async (index: number) => {
    const client = clients[index % clients.length]!;
    for (let stream = next++; stream < task.streams; stream = next++) {
      const streamId = `${task.streamPrefix}-${String(stream).padStart(4, '0')}`;
      for (let version = 0; version < task.eventsPerStream; version += task.eventsPerAppend) {
        const count = Math.min(task.eventsPerAppend, task.eventsPerStream - version);
        await client.appendEvents({
          streamId,
          expectedVersion: BigInt(version),
          events: Array.from({ length: count }, () => ({
            eventType: 'OrderPlaced',
            payloadJson: payloadBytes,
            eventId: randomUUID(),
          })),
        });
        appends++;
      }
    }
  };
  await Promise.all(Array.from({ length: task.concurrency }, (_, i) => worker(i)));
  const events = task.streams * task.eventsPerStream;
  return { ops: appends, units: events, elapsedSec: (performance.now() - start) / 1000, errors: 0 };
}
