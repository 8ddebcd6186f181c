/**
 * issue 10 finding 6 (config-server side): an outbox message the broker rejects for good
 * (MESSAGE_TOO_LARGE injected into the mock broker) moves to config_server.outbox_dead_letters with
 * a metric, and the next change is still published.
 */
import { randomUUID } from 'node:crypto';
import { ensureKafkaMockBuilt, KafkaApi, KafkaErrorCode, kafkaServiceHarness } from '@k1s0/platform/testing';
import postgres from 'postgres';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigServer, put, startConfigServer } from './support/service.js';

const harness = kafkaServiceHarness<ConfigServer>({
  topic: 'k1s0.system.config.changed.v1',
  start: (databaseUrl, brokers) => startConfigServer(databaseUrl, { KAFKA_BROKERS: brokers }),
  idOf: (message) => message.key,
});
afterEach(() => harness.cleanUp());

describe('config-server outbox dead letters', () => {
  beforeAll(() => ensureKafkaMockBuilt(), 240_000);

  it('dead-letters a permanently rejected message and publishes the next', async () => {
    const broker = await harness.startBroker();
    const database = await harness.freshDatabase();
    const service = await harness.startService(database.url, broker.brokers);
    const recorder = await harness.startRecorder(broker.bootstrapBrokers);
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const run = randomUUID().slice(0, 8);
      const [rejected, next] = [`system.dl${run}.a`, `system.dl${run}.b`];
      await broker.injectErrors(KafkaApi.produce, 1, KafkaErrorCode.messageTooLarge);
      expect((await put(service, rejected, 'k', 1)).status).toBe(201);
      await harness.waitFor('the dead letter', async () => {
        const [row] = await sql`select count(*)::int as n from config_server.outbox_dead_letters`;
        return row?.n === 1;
      });
      expect((await put(service, next, 'k', 2)).status).toBe(201);
      await harness.waitForAll(recorder, [{ id: next, key: next }]);

      const letters = await sql`select key, reason from config_server.outbox_dead_letters`;
      expect(letters).toEqual([{ key: rejected, reason: 'MESSAGE_TOO_LARGE' }]);
      expect(recorder.messages.map((m) => m.key).filter((key) => key.includes(run))).toEqual([next]);
      expect(await sql`select count(*)::int as n from config_server.outbox`).toEqual([{ n: 0 }]);
      expect(
        await harness.metric(
          service,
          'outbox_relay_dead_letters_total',
          'outbox="config_server.outbox",reason="MESSAGE_TOO_LARGE"',
        ),
      ).toBe(1);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 60_000);
});
