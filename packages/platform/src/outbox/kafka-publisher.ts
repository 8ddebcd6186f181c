import { ProduceAcks, Producer, stringSerializer } from '@platformatic/kafka';
import type { OutboxMessage, Publisher } from './publisher.js';

export interface KafkaPublisherOptions {
  brokers: string[];
  clientId: string;
}

/**
 * The service's Kafka publisher from its settings (the platform's `kafka` section, which every app
 * extends with its topics): `kafka.brokers`, and `kafka.client_id` defaulting to `app.name`.
 */
export function kafkaPublisherFor(config: {
  app: { name: string };
  kafka: { brokers: string[]; client_id?: string | undefined };
}): Publisher {
  return createKafkaPublisher({
    brokers: config.kafka.brokers,
    clientId: config.kafka.client_id ?? config.app.name,
  });
}

/**
 * Publisher on an idempotent Kafka producer (acks=all): a batch resolves once every
 * partition leader and its in-sync replicas have it, and broker-side retries cannot
 * duplicate or reorder within a partition. Topics are never auto-created (SPEC §6: they
 * are provisioned by the platform).
 */
export function createKafkaPublisher(options: KafkaPublisherOptions): Publisher {
  // Keys and headers are text; values are already-encoded bytes (protobuf / JSON).
  const producer = new Producer<string, Buffer, string, string>({
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    // InitProducerId for a fresh idempotent producer: "no current id/epoch".
    producerId: -1n,
    producerEpoch: -1,
    // Bounded, so a dead broker fails the batch and the relay backs off (idempotent producers
    // otherwise retry forever).
    retries: 5,
    retryDelay: 500,
    autocreateTopics: false,
    serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  return {
    async publish(messages: OutboxMessage[]) {
      if (messages.length === 0) return;
      await producer.send({
        messages: messages.map((message) => ({
          topic: message.topic,
          key: message.key,
          value: Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength),
          headers: message.headers,
        })),
      });
    },
    async ping() {
      await producer.listApis();
    },
    async close() {
      await producer.close();
    },
  };
}
