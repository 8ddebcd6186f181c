import { defaultEventStoreLimits } from '@k1s0/eventstore-domain';
import { platformConfigSchema } from '@k1s0/platform';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** The topic of design 002 (events published by the relay). */
export const DEFAULT_PUBLISHED_TOPIC = 'k1s0.system.eventstore.event.published.v1';

// The platform's brokers and client id, plus this service's topic (the same shape config-server uses).
const kafkaSchema = platformConfigSchema.shape.kafka.unwrap().extend({
  topic_published: z.string().min(1).default(DEFAULT_PUBLISHED_TOPIC),
});

/** event-store configuration: the platform's sections plus `kafka.topic_published` and `event_store` (spec 002). */
export const eventStoreConfigSchema = platformConfigSchema.extend({
  kafka: kafkaSchema.default({ brokers: [], topic_published: DEFAULT_PUBLISHED_TOPIC }),
  event_store: z
    .object({
      max_events_per_append: positiveInt.default(100),
      max_page_size: positiveInt.default(200),
      default_page_size: positiveInt.default(50),
      max_read_all_limit: positiveInt.default(1000),
      default_read_all_limit: positiveInt.default(100),
      /** SubscribeAll re-reads at least this often even without a NOTIFY. */
      subscribe_poll_interval_ms: positiveInt.default(1000),
      /** UTF-8 bytes of one event's JSON payload + metadata (and of a snapshot's state); REST and gRPC. */
      max_event_bytes: positiveInt.default(defaultEventStoreLimits.maxEventBytes),
      /** UTF-8 bytes of all events of one append; REST and gRPC (design 002's 1 MiB). */
      max_request_bytes: positiveInt.default(defaultEventStoreLimits.maxRequestBytes),
    })
    .default({
      max_events_per_append: 100,
      max_page_size: 200,
      default_page_size: 50,
      max_read_all_limit: 1000,
      default_read_all_limit: 100,
      subscribe_poll_interval_ms: 1000,
      max_event_bytes: defaultEventStoreLimits.maxEventBytes,
      max_request_bytes: defaultEventStoreLimits.maxRequestBytes,
    }),
  relay: z
    .object({
      batch_size: positiveInt.default(100),
      /** Safety poll in case a NOTIFY was missed. */
      poll_interval_ms: positiveInt.default(5000),
      /** How long a stopping relay may keep publishing what is left. */
      flush_timeout_ms: positiveInt.default(5000),
    })
    .default({ batch_size: 100, poll_interval_ms: 5000, flush_timeout_ms: 5000 }),
});

export type EventStoreConfig = z.infer<typeof eventStoreConfigSchema>;
