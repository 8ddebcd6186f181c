/**
 * What the event store publishes, read back over the Kafka wire protocol: the relay's messages on
 * k1s0.system.eventstore.event.published.v1 (spec 002 "Kafka メッセージング設計"), and at-least-once
 * delivery across a broker outage and a service restart during one.
 */
import { randomUUID } from 'node:crypto';
import { type RunningService, startService } from '@k1s0/platform';
import {
  type ExpectedDelivery,
  ensureKafkaMockBuilt,
  kafkaServiceHarness,
  type RecordedMessage,
  type TopicRecorder,
  tokenFor,
} from '@k1s0/platform/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventStoreConfig } from '../src/config.js';
import { eventStoreService } from '../src/service.js';

/** An event as the REST append answers it (spec 002 shape). */
interface AppendedEvent {
  stream_id: string;
  sequence: number;
  event_id: string;
  event_type: string;
  version: number;
  payload: unknown;
  metadata: unknown;
  occurred_at: string;
  stored_at: string;
}

type EventStore = RunningService<EventStoreConfig>;

const eventIdOf = (message: RecordedMessage) => message.headers['event-id'] ?? '';

const harness = kafkaServiceHarness<EventStore>({
  topic: 'k1s0.system.eventstore.event.published.v1',
  start: (databaseUrl, brokers) =>
    startService(eventStoreService, {
      ...process.env,
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: brokers,
      PORT: '0',
      GRPC_PORT: '0',
      LOG_LEVEL: 'silent',
      APP_ENV: 'test',
    }),
  idOf: eventIdOf,
});
afterEach(() => harness.cleanUp());

/** Appends events of `types` to `streamId` through REST (any expected version) and returns them. */
async function append(service: EventStore, streamId: string, ...types: string[]): Promise<AppendedEvent[]> {
  const response = await fetch(`http://127.0.0.1:${service.restPort}/api/v1/streams/${streamId}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokenFor('sys_operator')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      expected_version: -2,
      events: types.map((eventType, index) => ({
        event_type: eventType,
        payload: { stream: streamId, step: index },
        metadata: { actor_id: 'kafka-test', correlation_id: `corr-${streamId}`, causation_id: null },
      })),
    }),
  });
  const body = (await response.json()) as { events: AppendedEvent[] };
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.events;
}

/** A sample of the relay's metrics without labels, read from /metrics (0 when not reported yet). */
async function relayMetric(
  service: EventStore,
  name: 'event_store_relay_lag_events' | 'event_store_relay_errors_total',
): Promise<number> {
  return (await harness.metric(service, name)) ?? 0;
}
/** Committed events not yet acknowledged by Kafka. */
const relayLag = (service: EventStore) => relayMetric(service, 'event_store_relay_lag_events');

const bodyOf = (message: RecordedMessage) =>
  JSON.parse(message.value.toString('utf8')) as Record<string, unknown>;

const expectedDeliveries = (events: readonly AppendedEvent[]): ExpectedDelivery[] =>
  events.map((event) => ({ id: event.event_id, key: event.stream_id }));

/** Resolves once every event in `events` has been consumed at least once. */
const waitForAll = (recorder: TopicRecorder, events: readonly AppendedEvent[]) =>
  harness.waitForAll(recorder, expectedDeliveries(events));

/**
 * At-least-once delivery of `events` within `messages`: each present, each stream on one partition, and
 * per stream the first deliveries in append (= version = sequence) order. Returns the re-delivery count.
 */
function assertDeliveredInOrder(
  messages: readonly RecordedMessage[],
  events: readonly AppendedEvent[],
): number {
  const report = harness.report(messages, expectedDeliveries(events));
  expect(report.missing).toEqual([]);
  expect(report.splitKeys).toEqual([]);
  expect(report.deliveredOrder).toEqual(report.expectedOrder);
  return report.duplicates;
}

describe('event store → Kafka', () => {
  // The first build on a machine downloads and compiles librdkafka.
  beforeAll(() => ensureKafkaMockBuilt(), 240_000);

  it('publishes every appended event once: key = stream id, 002 JSON body, headers, sequence order per partition', async () => {
    const { service, recorder } = await harness.startRecorded(await harness.sharedBroker());

    // Interleaved appends to several streams, so global order and per-stream order differ.
    const run = randomUUID().slice(0, 8);
    const streams = ['order', 'invoice', 'shipment', 'payment'].map((name) => `${name}-${run}`);
    const appended: AppendedEvent[] = [];
    for (const round of [1, 2, 3]) {
      for (const stream of streams)
        appended.push(...(await append(service, stream, `Step${round}a`, `Step${round}b`)));
    }
    await waitForAll(recorder, appended);

    const ours = recorder.messages.filter((message) => streams.includes(message.key));
    expect(ours).toHaveLength(appended.length); // exactly once in normal operation
    for (const event of appended) {
      const message = ours.find((candidate) => eventIdOf(candidate) === event.event_id);
      expect(message?.key).toBe(event.stream_id);
      expect(message?.headers).toMatchObject({
        'event-id': event.event_id,
        sequence: String(event.sequence),
        'stream-id': event.stream_id,
        'event-type': event.event_type,
      });
      expect(message && bodyOf(message)).toEqual({
        event_type: 'EVENT_PUBLISHED',
        stream_id: event.stream_id,
        sequence: event.sequence,
        domain_event_type: event.event_type,
        version: event.version,
        payload: event.payload,
        metadata: event.metadata,
        occurred_at: event.occurred_at,
        stored_at: event.stored_at,
        event_id: event.event_id,
      });
    }
    // Per partition, offsets follow the global sequence; per stream, versions run 1..6 without gaps.
    for (const partition of new Set(ours.map((message) => message.partition))) {
      const sequences = ours
        .filter((message) => message.partition === partition)
        .map((message) => Number(message.headers.sequence));
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }
    for (const stream of streams) {
      const versions = ours
        .filter((message) => message.key === stream)
        .map((message) => bodyOf(message).version);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(assertDeliveredInOrder(ours, appended)).toBe(0);
  }, 30_000);

  it('keeps accepting appends while the broker is down, reports it in /readyz, and delivers everything once it is back', async ({
    annotate,
  }) => {
    const first = await harness.startBroker();
    const { service, recorder: before } = await harness.startRecorded(first);
    const streams = ['alpha', 'beta', 'gamma'].map((name) => `${name}-${randomUUID().slice(0, 8)}`);

    const published: AppendedEvent[] = [];
    for (const stream of streams) published.push(...(await append(service, stream, 'Opened')));
    await waitForAll(before, published);
    await harness.waitForKafkaReadiness(service, true);
    await before.close();

    await first.stop();
    const duringOutage: AppendedEvent[] = [];
    for (const round of [1, 2, 3, 4]) {
      for (const stream of streams) duringOutage.push(...(await append(service, stream, `Outage${round}`)));
    }
    await harness.waitForKafkaReadiness(service, false);
    // The outage outlasts a publish attempt (the producer's own retries), so the relay's retry path runs.
    await harness.waitFor(
      'a failed relay attempt',
      async () => (await relayMetric(service, 'event_store_relay_errors_total')) > 0,
    );
    for (const stream of streams) duringOutage.push(...(await append(service, stream, 'LateOutage')));
    expect(await relayLag(service)).toBe(duringOutage.length);

    // The mock keeps data in memory: the new broker starts empty, at the same address.
    const { recorder: after } = await harness.restartBroker(first);
    await waitForAll(after, duringOutage);
    await harness.waitForKafkaReadiness(service, true);
    await harness.waitFor('relay lag 0', async () => (await relayLag(service)) === 0);

    const duplicates = assertDeliveredInOrder(after.messages, duringOutage);
    await annotate(`${duringOutage.length} events written during the outage, ${duplicates} re-deliveries`);
    // The checkpoint is durable: what the first broker acknowledged is not sent again.
    const publishedIds = new Set(published.map((event) => event.event_id));
    expect(after.messages.filter((message) => publishedIds.has(eventIdOf(message)))).toEqual([]);
  }, 45_000);

  it('loses nothing when the service restarts while events wait for the broker', async ({ annotate }) => {
    const first = await harness.startBroker();
    const testDb = await harness.freshDatabase();
    const stream = `restart-${randomUUID().slice(0, 8)}`;
    const other = `restart-other-${randomUUID().slice(0, 8)}`;

    const firstInstance = await harness.startService(testDb.url, first.brokers);
    const before = await harness.startRecorder(first.bootstrapBrokers);
    const published = await append(firstInstance, stream, 'Created');
    await waitForAll(before, published);
    await before.close();
    await first.stop();

    const pending: AppendedEvent[] = [];
    pending.push(...(await append(firstInstance, stream, 'Pending1', 'Pending2')));
    pending.push(...(await append(firstInstance, other, 'Pending1')));
    await firstInstance.stop();

    // A new instance on the same database, the broker still down: it resumes from the durable checkpoint.
    const secondInstance = await harness.startService(testDb.url, first.brokers);
    pending.push(...(await append(secondInstance, stream, 'Pending3')));
    pending.push(...(await append(secondInstance, other, 'Pending2')));
    expect(await relayLag(secondInstance)).toBe(pending.length);

    const { recorder: after } = await harness.restartBroker(first);
    await waitForAll(after, pending);
    const duplicates = assertDeliveredInOrder(after.messages, pending);
    await annotate(`${pending.length} pending events across the restart, ${duplicates} re-deliveries`);
    await harness.waitForKafkaReadiness(secondInstance, true);
  }, 45_000);
});
