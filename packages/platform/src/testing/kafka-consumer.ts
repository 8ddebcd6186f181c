/**
 * A Kafka consumer for tests that records everything published to one topic, so a test can
 * assert on what a service sent over the wire.
 */
import { randomUUID } from 'node:crypto';
import {
  Consumer,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  stringDeserializer,
} from '@platformatic/kafka';
import { waitFor } from './wait-for.js';

/** One consumed message: text key and headers (as the outbox publisher sends them), raw value. */
export interface RecordedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface TopicRecorder {
  /** Messages in arrival order (per partition, that is offset order). */
  readonly messages: RecordedMessage[];
  /** Resolves once `done(messages)` holds; rejects after `timeoutMs` naming `what` and the count so far. */
  waitUntil(what: string, done: (messages: RecordedMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops consuming; `messages` stays readable. Call it before the broker goes away. */
  close(): Promise<void>;
}

const DEFAULT_WAIT_MS = 15_000;

/** A message as the outbox relay sends it, consumed raw: text key and headers, bytes value. */
export type ConsumedMessage = Message<string, Buffer, string, string>;

export interface TopicStream {
  readonly stream: MessagesStream<string, Buffer, string, string>;
  /** Closes the stream and leaves the group; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Consumes `topic` from the earliest offset in a fresh consumer group named after `clientId`.
 * A restarted broker is a new connection: consume it with a new stream.
 */
export async function consumeFromStart(
  bootstrapBrokers: string[],
  topic: string,
  clientId = 'k1s0-test-consumer',
): Promise<TopicStream> {
  const consumer = new Consumer({
    clientId,
    groupId: `${clientId}-${randomUUID()}`,
    bootstrapBrokers,
    deserializers: {
      key: stringDeserializer,
      headerKey: stringDeserializer,
      headerValue: stringDeserializer,
    },
    // Short fetch waits so a test sees a message soon after it is produced.
    maxWaitTime: 100,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  let closed: Promise<void> | undefined;
  return {
    stream,
    close() {
      closed ??= (async () => {
        await stream.close().catch(() => undefined);
        await consumer.close(true).catch(() => undefined);
      })();
      return closed;
    },
  };
}

/** The next `count` messages of `stream`; rejects after `timeoutMs` saying how many came. */
export function takeMessages(
  stream: MessagesStream<string, Buffer, string, string>,
  count: number,
  timeoutMs: number,
): Promise<ConsumedMessage[]> {
  return new Promise((resolve, reject) => {
    const received: ConsumedMessage[] = [];
    const onData = (message: ConsumedMessage) => {
      received.push(message);
      if (received.length < count) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(received);
    };
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`received ${received.length} of ${count} messages within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', onData);
  });
}

/**
 * Records `topic` from the earliest offset in a fresh consumer group. A restarted broker is a new
 * connection: record it with a new recorder.
 */
export async function recordTopic(bootstrapBrokers: string[], topic: string): Promise<TopicRecorder> {
  const { stream, close } = await consumeFromStart(bootstrapBrokers, topic, 'k1s0-test-recorder');
  const messages: RecordedMessage[] = [];
  const errors: Error[] = [];
  stream.on('data', (message: ConsumedMessage) => {
    messages.push({
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: Object.fromEntries(message.headers),
    });
  });
  stream.on('error', (error: Error) => errors.push(error));

  return {
    messages,
    async waitUntil(what, done, timeoutMs = DEFAULT_WAIT_MS) {
      await waitFor(what, () => done(messages), timeoutMs).catch((timedOut: Error) => {
        const cause = errors.length > 0 ? `; consumer errors: ${errors.map(String).join('; ')}` : '';
        throw new Error(`${timedOut.message} (${messages.length} messages on ${topic})${cause}`);
      });
    },
    close,
  };
}

/** A message a test expects on the topic: its dedup id and its key. */
export interface ExpectedDelivery {
  id: string;
  key: string;
}

export interface DeliveryReport {
  /** Expected ids never consumed. */
  missing: string[];
  /** Consumed messages carrying an expected id that was already consumed (at-least-once re-deliveries). */
  duplicates: number;
  /** Keys whose messages arrived on more than one partition (per-key order would not hold). */
  splitKeys: string[];
  /** Per key, expected ids in first-delivery order; equals `expectedOrder` when per-key order held. */
  deliveredOrder: Record<string, string[]>;
  /** Per key, the ids in the order given by `expected`. */
  expectedOrder: Record<string, string[]>;
}

/**
 * Compares consumed `messages` (in arrival order) with `expected` (in per-key publication order):
 * messages whose id is not expected are ignored, so a shared topic is fine.
 */
export function deliveryReport(
  messages: readonly RecordedMessage[],
  expected: readonly ExpectedDelivery[],
  idOf: (message: RecordedMessage) => string,
): DeliveryReport {
  const expectedIds = new Set(expected.map((delivery) => delivery.id));
  const seen = new Set<string>();
  const partitionsByKey = new Map<string, Set<number>>();
  const deliveredOrder: Record<string, string[]> = {};
  let duplicates = 0;
  for (const message of messages) {
    const id = idOf(message);
    if (!expectedIds.has(id)) continue;
    const partitions = partitionsByKey.get(message.key) ?? new Set<number>();
    partitions.add(message.partition);
    partitionsByKey.set(message.key, partitions);
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    seen.add(id);
    deliveredOrder[message.key] = [...(deliveredOrder[message.key] ?? []), id];
  }
  const expectedOrder: Record<string, string[]> = {};
  for (const { id, key } of expected) expectedOrder[key] = [...(expectedOrder[key] ?? []), id];
  return {
    missing: [...expectedIds].filter((id) => !seen.has(id)),
    duplicates,
    splitKeys: [...partitionsByKey].filter(([, partitions]) => partitions.size > 1).map(([key]) => key),
    deliveredOrder,
    expectedOrder,
  };
}
