import { defaultEventStoreLimits } from '@k1s0/eventstore-domain';
import { durationMs, platformConfigSchema, RenamedSettings } from '@k1s0/platform';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
/** A duration like the platform's ("500ms", "5s", or an integer of milliseconds), at least 1 ms. */
const positiveDuration = durationMs.pipe(z.number().int().min(1));
/** A `*_ms` key kept from before durations were written as durations: read, with a start-up warning. */
const deprecatedMs = positiveInt.optional().meta({ deprecated: true });

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
      subscribe_poll_interval: positiveDuration.default(1000),
      subscribe_poll_interval_ms: deprecatedMs,
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
      subscribe_poll_interval: 1000,
      max_event_bytes: defaultEventStoreLimits.maxEventBytes,
      max_request_bytes: defaultEventStoreLimits.maxRequestBytes,
    }),
  relay: z
    .object({
      batch_size: positiveInt.default(100),
      /** Safety poll in case a NOTIFY was missed. */
      poll_interval: positiveDuration.default(5000),
      poll_interval_ms: deprecatedMs,
      /** How long a stopping relay may keep publishing what is left. */
      flush_timeout: positiveDuration.default(5000),
      flush_timeout_ms: deprecatedMs,
    })
    .default({ batch_size: 100, poll_interval: 5000, flush_timeout: 5000 }),
});

/** The event store's durations in milliseconds, the deprecated `*_ms` keys applied. */
export interface EventStoreDurations {
  subscribePollIntervalMs: number;
  relayPollIntervalMs: number;
  relayFlushTimeoutMs: number;
  /** The old `*_ms` keys that are set (`used`), for a start-up warning. */
  renamed: RenamedSettings;
}

/**
 * Durations are written as durations in both apps (`poll_interval: 5s`, as the platform's
 * `shutdown_timeout: 10s`). The `*_ms` integer keys of earlier event-store versions still work and
 * win when set, so existing config files keep their meaning; each one set is reported.
 */
export function eventStoreDurations(config: EventStoreConfig): EventStoreDurations {
  const { event_store: store, relay } = config;
  const renamed = new RenamedSettings();
  return {
    subscribePollIntervalMs: renamed.pick(
      'event_store.subscribe_poll_interval_ms',
      'event_store.subscribe_poll_interval',
      store.subscribe_poll_interval_ms,
      store.subscribe_poll_interval,
    ),
    relayPollIntervalMs: renamed.pick(
      'relay.poll_interval_ms',
      'relay.poll_interval',
      relay.poll_interval_ms,
      relay.poll_interval,
    ),
    relayFlushTimeoutMs: renamed.pick(
      'relay.flush_timeout_ms',
      'relay.flush_timeout',
      relay.flush_timeout_ms,
      relay.flush_timeout,
    ),
    renamed,
  };
}

export type EventStoreConfig = z.infer<typeof eventStoreConfigSchema>;
