import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createDatabase, type Database, runMigrations } from '../src/db/index.js';
import { createKafkaPublisher, createOutboxRelay } from '../src/outbox/index.js';
import { consumeFromStart, takeMessages } from '../src/testing/kafka-consumer.js';
import { ensureKafkaMockBuilt, kafkaForTests } from '../src/testing/kafka-mock.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';
import { outbox } from './fixtures/schema.js';
import { enqueue } from './support/outbox-writes.js';

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  await ensureKafkaMockBuilt();
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 3 });
  await runMigrations(database, {
    migrationsFolder: fileURLToPath(new URL('./fixtures/migrations', import.meta.url)),
    migrationsSchema: 'drizzle',
    migrationsTable: '__platform_test_migrations',
  });
}, 240_000);

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

async function receive(bootstrapBrokers: string[], topic: string, count: number) {
  const consumer = await consumeFromStart(bootstrapBrokers, topic, 'outbox-kafka-test');
  onTestFinished(() => consumer.close());
  return takeMessages(consumer.stream, count, 20_000);
}

describe('outbox relay → Kafka publisher', () => {
  it('delivers outbox rows to the topic with key, bytes and headers, in order', async () => {
    const topic = `outbox-kafka-test.${randomUUID()}`;
    const kafka = await kafkaForTests([topic]);
    onTestFinished(() => kafka.stop());
    const publisher = createKafkaPublisher({
      brokers: kafka.bootstrapBrokers,
      clientId: 'outbox-kafka-test',
    });
    onTestFinished(() => publisher.close());
    await publisher.ping?.();

    await enqueue(
      database,
      outbox,
      [1, 2, 3].map((n) => ({
        topic,
        key: 'system.auth',
        value: new Uint8Array([0x00, 0xff, n]),
        headers: { 'event-type': `Changed${n}` },
      })),
    );
    const relay = createOutboxRelay({
      database,
      table: outbox,
      publisher,
      logger: pino({ level: 'silent' }),
      leaderLockKey: 'platform_test.outbox_kafka_relay',
    });
    relay.start();
    onTestFinished(() => relay.stop());

    const received = await receive(kafka.bootstrapBrokers, topic, 3);
    expect(received.map((m) => m.key)).toEqual(['system.auth', 'system.auth', 'system.auth']);
    expect(received.map((m) => [...m.value])).toEqual([
      [0x00, 0xff, 1],
      [0x00, 0xff, 2],
      [0x00, 0xff, 3],
    ]);
    expect(received.map((m) => m.headers.get('event-type'))).toEqual(['Changed1', 'Changed2', 'Changed3']);
    await expect.poll(() => relay.backlog()).toBe(0);
  }, 30_000);
});
