/**
 * Scaffolding for end-to-end tests of a service that publishes to Kafka through its outbox relay:
 * databases, brokers (stopped and restarted on the same port to stage an outage), running services
 * and topic recorders, all torn down in reverse order; plus the polls such tests wait on
 * (/readyz's kafka check, /metrics samples, delivery of expected messages). Assertions stay in the tests.
 */
import {
  type DeliveryReport,
  deliveryReport,
  type ExpectedDelivery,
  type RecordedMessage,
  recordTopic,
  type TopicRecorder,
} from './kafka-consumer.js';
import { type KafkaMock, type KafkaTestBroker, kafkaForTests, startKafkaMock } from './kafka-mock.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { waitFor as waitForWithin } from './wait-for.js';

/** What the harness needs of a started service: its REST port (/readyz, /metrics) and a way to stop it. */
export interface KafkaPublishingService {
  restPort: number;
  stop(): Promise<void>;
}

export interface KafkaServiceHarnessOptions<S extends KafkaPublishingService> {
  /** The topic the service publishes to (created on every broker the harness starts). */
  topic: string;
  /** Starts the service against a database and a broker list (KAFKA_BROKERS). */
  start(databaseUrl: string, brokers: string): Promise<S>;
  /** The id a published message carries, matched against ExpectedDelivery.id. */
  idOf(message: RecordedMessage): string;
  /** How long each wait may take; default 15 s. */
  timeoutMs?: number;
}

export interface KafkaServiceHarness<S extends KafkaPublishingService> {
  readonly timeoutMs: number;
  /** Runs every registered cleanup, newest first (services before their database and broker). */
  cleanUp(): Promise<void>;
  freshDatabase(): Promise<TestDatabase>;
  /** The broker shared by the test run (or a private mock), for tests that never stop it. */
  sharedBroker(): Promise<KafkaTestBroker>;
  /** A private mock broker; pass a stopped broker's port to bring "it" back (empty: the mock keeps data in memory). */
  startBroker(port?: number): Promise<KafkaMock>;
  startService(databaseUrl: string, brokers: string): Promise<S>;
  /** Records the topic from the earliest offset; a restarted broker needs a new recorder. */
  startRecorder(bootstrapBrokers: string[]): Promise<TopicRecorder>;
  /** A service on a fresh database publishing to `broker`, and a recorder of the topic there. */
  startRecorded(broker: KafkaTestBroker): Promise<{ service: S; recorder: TopicRecorder }>;
  /** Brings a stopped broker back on its port (empty: the mock keeps data in memory), with a new recorder. */
  restartBroker(stopped: KafkaMock): Promise<{ broker: KafkaMock; recorder: TopicRecorder }>;
  /** Resolves once every expected message has been recorded at least once. */
  waitForAll(recorder: TopicRecorder, expected: readonly ExpectedDelivery[]): Promise<void>;
  report(messages: readonly RecordedMessage[], expected: readonly ExpectedDelivery[]): DeliveryReport;
  /** Waits for /readyz to say 200 with kafka 'ok' (`up`) or 503 with a kafka error. */
  waitForKafkaReadiness(service: S, up: boolean): Promise<void>;
  /** The value of the /metrics sample `name{labels}` (`name` alone without labels), undefined if absent. */
  metric(service: S, name: string, labels?: string): Promise<number | undefined>;
  /** Polls `check` until it holds, failing after timeoutMs with `what` in the message. */
  waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export function kafkaServiceHarness<S extends KafkaPublishingService>(
  options: KafkaServiceHarnessOptions<S>,
): KafkaServiceHarness<S> {
  const { topic, idOf } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cleanups: Array<() => Promise<void>> = [];
  const track = <T>(resource: T, cleanup: (resource: T) => Promise<void>): T => {
    cleanups.push(() => cleanup(resource));
    return resource;
  };

  const waitFor = (what: string, check: () => boolean | Promise<boolean>): Promise<void> =>
    waitForWithin(what, check, timeoutMs);
  const baseUrl = (service: S) => `http://127.0.0.1:${service.restPort}`;

  const harness: KafkaServiceHarness<S> = {
    timeoutMs,
    async cleanUp() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
    async freshDatabase() {
      return track(await createTestDatabase(), (testDb) => testDb.drop());
    },
    async sharedBroker() {
      return track(await kafkaForTests([topic]), (broker) => broker.stop());
    },
    async startBroker(port) {
      return track(await startKafkaMock({ topics: [topic], port }), (broker) => broker.stop());
    },
    async startService(databaseUrl, brokers) {
      return track(await options.start(databaseUrl, brokers), (service) => service.stop());
    },
    async startRecorder(bootstrapBrokers) {
      return track(await recordTopic(bootstrapBrokers, topic), (recorder) => recorder.close());
    },
    async startRecorded(broker) {
      const service = await harness.startService((await harness.freshDatabase()).url, broker.brokers);
      return { service, recorder: await harness.startRecorder(broker.bootstrapBrokers) };
    },
    async restartBroker(stopped) {
      const broker = await harness.startBroker(stopped.port);
      return { broker, recorder: await harness.startRecorder(broker.bootstrapBrokers) };
    },
    waitForAll(recorder, expected) {
      return recorder.waitUntil(
        `${expected.length} messages`,
        (messages) => deliveryReport(messages, expected, idOf).missing.length === 0,
      );
    },
    report: (messages, expected) => deliveryReport(messages, expected, idOf),
    waitForKafkaReadiness(service, up) {
      return waitFor(`readyz ${up ? '200 with kafka ok' : '503 with a kafka error'}`, async () => {
        const response = await fetch(`${baseUrl(service)}/readyz`);
        const { checks } = (await response.json()) as { checks: Record<string, string> };
        return up
          ? response.status === 200 && checks.kafka === 'ok'
          : response.status === 503 && checks.kafka?.startsWith('error') === true;
      });
    },
    async metric(service, name, labels = '') {
      const text = await (await fetch(`${baseUrl(service)}/metrics`)).text();
      const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
      const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
      return line === undefined ? undefined : Number(line.slice(prefix.length));
    },
    waitFor,
  };
  return harness;
}
