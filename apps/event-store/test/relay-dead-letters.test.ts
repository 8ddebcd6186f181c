/**
 * issue 10 finding 6: the relay never wedges. An event the broker rejects for good
 * (MESSAGE_TOO_LARGE, injected into the mock broker) goes to event_store.relay_dead_letters with a
 * metric, and the next events are delivered in order; a transient broker error is still retried.
 */
import { randomUUID } from 'node:crypto';
import { type RunningService, startService } from '@k1s0/platform';
import {
  ensureKafkaMockBuilt,
  KafkaApi,
  KafkaErrorCode,
  kafkaServiceHarness,
  type RecordedMessage,
  tokenFor,
} from '@k1s0/platform/testing';
import postgres from 'postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventStoreConfig } from '../src/config.js';
import { eventStoreService } from '../src/service.js';

type EventStore = RunningService<EventStoreConfig>;
const TOPIC = 'k1s0.system.eventstore.event.published.v1';

const harness = kafkaServiceHarness<EventStore>({
  topic: TOPIC,
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
  idOf: (message: RecordedMessage) => message.headers['event-id'] ?? '',
});
afterEach(() => harness.cleanUp());

async function append(service: EventStore, streamId: string, ...types: string[]) {
  const response = await fetch(`http://127.0.0.1:${service.restPort}/api/v1/streams/${streamId}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokenFor('sys_operator')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      expected_version: -2,
      events: types.map((eventType) => ({ event_type: eventType, payload: { t: eventType } })),
    }),
  });
  const body = (await response.json()) as { events: Array<{ event_id: string; sequence: number }> };
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.events;
}

describe('relay dead letters', () => {
  beforeAll(() => ensureKafkaMockBuilt(), 240_000);

  it('sets a permanently rejected event aside and keeps publishing in order; retries a transient error', async () => {
    const broker = await harness.startBroker();
    const database = await harness.freshDatabase();
    const service = await harness.startService(database.url, broker.brokers);
    const recorder = await harness.startRecorder(broker.bootstrapBrokers);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const stream = `dl-${randomUUID().slice(0, 8)}`;
      const [first] = await append(service, stream, 'First');
      await harness.waitForAll(recorder, [{ id: first!.event_id, key: stream }]);

      // The next two produce requests fail with MESSAGE_TOO_LARGE: the batch of [tooBig, next],
      // then tooBig sent alone; `next` sent alone afterwards succeeds.
      await broker.injectErrors(KafkaApi.produce, 2, KafkaErrorCode.messageTooLarge);
      const [tooBig, next] = await append(service, stream, 'TooBig', 'Next');
      await harness.waitForAll(recorder, [{ id: next!.event_id, key: stream }]);
      const [later] = await append(service, stream, 'Later');
      await harness.waitForAll(recorder, [{ id: later!.event_id, key: stream }]);

      const delivered = recorder.messages.filter((m) => m.key === stream).map((m) => m.headers['event-type']);
      expect(delivered).toEqual(['First', 'Next', 'Later']);
      const letters =
        await sql`select sequence::text, event_id::text, event_type, reason from event_store.relay_dead_letters`;
      expect(letters).toEqual([
        {
          sequence: String(tooBig!.sequence),
          event_id: tooBig!.event_id,
          event_type: 'TooBig',
          reason: 'MESSAGE_TOO_LARGE',
        },
      ]);
      expect(
        await harness.metric(
          service,
          'event_store_relay_dead_letters_total',
          `topic="${TOPIC}",reason="MESSAGE_TOO_LARGE"`,
        ),
      ).toBe(1);

      // A transient error (NOT_ENOUGH_REPLICAS) on more produce requests than the producer's own
      // retries: the relay attempt fails and is retried, nothing is dead-lettered.
      await broker.injectErrors(KafkaApi.produce, 8, KafkaErrorCode.notEnoughReplicas);
      const [transient] = await append(service, stream, 'Transient');
      await harness.waitForAll(recorder, [{ id: transient!.event_id, key: stream }]);
      expect((await harness.metric(service, 'event_store_relay_errors_total')) ?? 0).toBeGreaterThan(0);
      expect(await sql`select count(*)::int as n from event_store.relay_dead_letters`).toEqual([{ n: 1 }]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 60_000);
});
