import { randomUUID } from 'node:crypto';
import { createHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventStoreService } from '@k1s0/proto';
import type { LoadResult } from '../lib/load-result.js';
import { grpcClients } from './grpc-client.js';
import { closeSessions, rawServerStream, rawSessions } from './raw-grpc-stream.js';
import { ORDER_PAYLOAD } from './raw-postgres.js';
import type { LoadTask } from './tasks.js';

type Task = Extract<LoadTask, { kind: 'live-delivery' }>;

const payloadBytes = new TextEncoder().encode(JSON.stringify(ORDER_PAYLOAD));

interface Sent {
  sentAt: number;
  answeredAt?: number;
  arrivedAt?: number;
  measured: boolean;
}

/**
 * One live SubscribeAll (from just past the log's head, so no catch-up) while appends of one event
 * each arrive open-loop at `ratePerSec` on `appendStreams` streams. Per event: the time from the
 * append's answer (its commit acknowledged) to the subscriber's receipt — an event delivered before
 * its answer reached the writer counts 0; the note gives the p99 from sending the append too.
 */
export async function liveDelivery(task: Task): Promise<LoadResult> {
  const clients = grpcClients(EventStoreService, task.grpcUrl, task.token, task.connections);
  const marker = await clients[0]!.appendEvents({
    streamId: `${task.streamPrefix}-marker`,
    expectedVersion: -2n,
    events: [{ eventType: 'OrderPlaced', payloadJson: payloadBytes }],
  });
  const head = marker.events[0]?.sequence;
  if (head === undefined) throw new Error('AppendEvents answered no stored event');

  const byId = new Map<string, Sent>();
  const fromAnswer = createHistogram();
  const fromSend = createHistogram();
  const record = (sent: Sent) => {
    if (!sent.measured || sent.arrivedAt === undefined || sent.answeredAt === undefined) return;
    fromAnswer.record(Math.max(1, Math.round((sent.arrivedAt - sent.answeredAt) * 1e6)));
    fromSend.record(Math.max(1, Math.round((sent.arrivedAt - sent.sentAt) * 1e6)));
  };
  let measuredDelivered = 0;
  let measuredSent = 0;
  let allMeasuredArrived = () => {};
  let sendingDone = false;
  const checkDone = () => {
    if (sendingDone && measuredDelivered === measuredSent) allMeasuredArrived();
  };

  // A raw HTTP/2 reader on its own connection: the subscriber's decoding stays cheap and apart
  // from the writers' sessions.
  const sessions = rawSessions(task.grpcUrl, 1);
  const abort = new AbortController();
  let streamError: string | undefined;
  const subscriber = rawServerStream(
    sessions[0]!,
    EventStoreService.method.subscribeAll,
    { fromSequence: head + 1n, batch: task.batch },
    task.token,
    (message) => {
      const now = performance.now();
      for (const event of message.event ? [message.event] : message.events) {
        const sent = byId.get(event.eventId);
        if (!sent || sent.arrivedAt !== undefined) continue;
        sent.arrivedAt = now;
        if (sent.measured) measuredDelivered++;
        record(sent);
      }
      checkDone();
    },
    abort.signal,
  ).catch((error: unknown) => {
    if (!abort.signal.aborted) streamError = String(error);
  });

  const errorSamples: string[] = [];
  let appendErrors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let sent = 0;
  const appendOne = async (n: number, measured: boolean) => {
    const eventId = randomUUID();
    const entry: Sent = { sentAt: performance.now(), measured };
    byId.set(eventId, entry);
    if (measured) measuredSent++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await clients[n % clients.length]!.appendEvents({
        streamId: `${task.streamPrefix}-${n % task.appendStreams}`,
        expectedVersion: -2n,
        events: [{ eventType: 'OrderPlaced', payloadJson: payloadBytes, eventId }],
      });
      entry.answeredAt = performance.now();
      record(entry);
    } catch (error) {
      appendErrors++;
      byId.delete(eventId);
      if (measured) measuredSent--;
      if (errorSamples.length < 3) errorSamples.push(error instanceof Error ? error.message : String(error));
    } finally {
      inFlight--;
      checkDone();
    }
  };

  // Open loop: every tick sends what the schedule says is due, whatever is still in flight.
  const start = performance.now();
  const measureFrom = start + task.warmupMs;
  const measureUntil = measureFrom + task.durationMs;
  const appends: Promise<void>[] = [];
  while (performance.now() < measureUntil) {
    const now = performance.now();
    const due = Math.floor(((now - start) / 1000) * task.ratePerSec);
    for (; sent < due; sent++) appends.push(appendOne(sent, now >= measureFrom));
    await sleep(2);
  }
  await Promise.all(appends);
  sendingDone = true;
  const arrived = new Promise<void>((resolve) => {
    allMeasuredArrived = resolve;
  });
  checkDone();
  const timedOut = await Promise.race([arrived.then(() => false), sleep(10_000).then(() => true)]);
  abort.abort();
  await subscriber;
  closeSessions(sessions);

  const missed = measuredSent - measuredDelivered;
  const offered = measuredSent / (task.durationMs / 1000);
  return {
    ops: measuredDelivered,
    units: measuredDelivered,
    elapsedSec: task.durationMs / 1000,
    errors: missed + appendErrors,
    p50Ms: measuredDelivered > 0 ? fromAnswer.percentile(50) / 1e6 : undefined,
    p99Ms: measuredDelivered > 0 ? fromAnswer.percentile(99) / 1e6 : undefined,
    note: [
      `offered ${offered.toFixed(0)} appends/s (1 event each, ${task.appendStreams} streams, batch=${task.batch})`,
      `${measuredDelivered}/${measuredSent} measured events delivered${timedOut ? ' (timeout)' : ''}`,
      'latency from the append answer (commit acknowledged)',
      measuredDelivered > 0
        ? `p99 from sending the append ${(fromSend.percentile(99) / 1e6).toFixed(1)} ms`
        : '',
      `max appends in flight ${maxInFlight}`,
    ]
      .filter(Boolean)
      .join('; '),
    ...(errorSamples.length || streamError
      ? { errorSamples: [...errorSamples, ...(streamError ? [streamError] : [])] }
      : {}),
  };
}
