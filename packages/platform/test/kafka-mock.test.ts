import { randomUUID } from 'node:crypto';
import { ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { consumeFromStart as consumeTopic, takeMessages } from '../src/testing/kafka-consumer.js';
import { ensureKafkaMockBuilt, kafkaForTests, startKafkaMock } from '../src/testing/kafka-mock.js';

function newProducer(bootstrapBrokers: string[], extra: { retries?: number; retryDelay?: number } = {}) {
  const producer = new Producer({
    clientId: 'kafka-mock-test-producer',
    bootstrapBrokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    // InitProducerId with -1/-1 asks for a fresh id; the library's default 0/0 is refused (UNKNOWN_PRODUCER_ID).
    producerId: -1n,
    producerEpoch: -1,
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    ...extra,
  });
  onTestFinished(() => producer.close());
  return producer;
}

async function consumeFromStart(bootstrapBrokers: string[], topic: string) {
  const consumer = await consumeTopic(bootstrapBrokers, topic, 'kafka-mock-test-consumer');
  onTestFinished(() => consumer.close());
  return consumer.stream;
}

/** Resolves with 'pending' if `promise` has not settled after `ms`. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

describe('Kafka mock broker', () => {
  // The first build on a machine downloads and compiles librdkafka.
  beforeAll(() => ensureKafkaMockBuilt(), 240_000);

  it('delivers produced messages to a consumer group in order, with keys, values and headers', async () => {
    const topic = `kafka-mock-test.orders.${randomUUID()}`;
    const kafka = await kafkaForTests([topic]);
    onTestFinished(() => kafka.stop());

    const producer = newProducer(kafka.bootstrapBrokers);
    const sent = [1, 2, 3].map((n) => ({
      topic,
      key: 'order-42', // one key, so one partition, so one order
      value: Buffer.from([0x00, 0xff, n]),
      headers: { 'event-type': `OrderStep${n}`, 'trace-id': `trace-${n}` },
    }));
    const result = await producer.send({ messages: sent });
    expect(result.offsets).toHaveLength(1);

    const received = await takeMessages(await consumeFromStart(kafka.bootstrapBrokers, topic), 3, 10_000);

    expect(received.map((m) => m.key)).toEqual(['order-42', 'order-42', 'order-42']);
    expect(received.map((m) => [...m.value])).toEqual([
      [0x00, 0xff, 1],
      [0x00, 0xff, 2],
      [0x00, 0xff, 3],
    ]);
    expect(received.map((m) => Object.fromEntries(m.headers))).toEqual(sent.map((m) => m.headers));
    expect(new Set(received.map((m) => m.partition)).size).toBe(1);
    const offsets = received.map((m) => m.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    expect(offsets[0]).toBe(result.offsets?.[0]?.offset);
  }, 20_000);

  it('uses the cluster in KAFKA_BROKERS instead of starting a mock, and leaves it running', async () => {
    const topic = 'kafka-mock-test.external';
    const external = await startKafkaMock({ topics: [topic], partitions: 1 });
    onTestFinished(() => external.stop());
    vi.stubEnv('KAFKA_BROKERS', ` ${external.brokers} `);
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });

    const kafka = await kafkaForTests([topic]);
    expect(kafka.bootstrapBrokers).toEqual([external.brokers]);
    await kafka.stop();

    const producer = newProducer(kafka.bootstrapBrokers);
    await expect(
      producer.send({ messages: [{ topic, value: Buffer.from('still up') }] }),
    ).resolves.toMatchObject({
      offsets: [{ topic, offset: 0n }],
    });
  }, 20_000);

  it('lets an idempotent producer deliver again once a broker comes back on the same port', async () => {
    const topic = 'kafka-mock-test.restart';
    const first = await startKafkaMock({ topics: [topic], partitions: 1 });
    onTestFinished(() => first.stop());
    const producer = newProducer(first.bootstrapBrokers, { retryDelay: 200 });
    const send = (value: string) =>
      producer.send({ messages: [{ topic, key: 'k', value: Buffer.from(value) }] });

    await send('before-outage');
    await first.stop();

    // With the default retries an idempotent producer retries forever: the send neither rejects nor resolves.
    const duringOutage = send('during-outage');
    expect(await settledWithin(duringOutage, 1_000)).toBe('pending');

    const second = await startKafkaMock({ topics: [topic], partitions: 1, port: first.port });
    onTestFinished(() => second.stop());
    expect(second.brokers).toBe(first.brokers);

    await expect(duringOutage).resolves.toMatchObject({ offsets: [{ topic, partition: 0, offset: 0n }] });
    await expect(send('after-outage')).resolves.toMatchObject({ offsets: [{ offset: 1n }] });

    // The mock keeps data in memory, so the new broker holds only what was sent after the restart.
    const received = await takeMessages(await consumeFromStart(second.bootstrapBrokers, topic), 2, 10_000);
    expect(received.map((m) => m.value.toString())).toEqual(['during-outage', 'after-outage']);
  }, 20_000);

  it('rejects a send promptly during an outage when retries are bounded', async () => {
    const topic = 'kafka-mock-test.bounded';
    const broker = await startKafkaMock({ topics: [topic], partitions: 1 });
    onTestFinished(() => broker.stop());
    // An idempotent producer keeps an explicit retries >= 2 (or false); 0 and 1 mean "forever".
    const bounded = newProducer(broker.bootstrapBrokers, { retries: 2, retryDelay: 100 });
    await bounded.send({ messages: [{ topic, value: Buffer.from('ok') }] });
    await broker.stop();

    const started = Date.now();
    await expect(bounded.send({ messages: [{ topic, value: Buffer.from('lost') }] })).rejects.toMatchObject({
      code: 'PLT_KFK_MULTIPLE',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 20_000);
});
