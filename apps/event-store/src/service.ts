import { fileURLToPath } from 'node:url';
import {
  type AppParts,
  Gauge,
  type Kernel,
  kafkaPublisherFor,
  type Publisher,
  type ReadinessCheck,
  type ServiceDefinition,
} from '@k1s0/platform';
import { type EventStoreConfig, eventStoreConfigSchema, eventStoreDurations } from './config.js';
import { eventStoreErrorCodes } from './error-codes.js';
import { eventStoreGrpcRoutes } from './grpc/event-store-service.js';
import { createNewEventsSignal } from './persistence/new-events-signal.js';
import { PostgresEventStore } from './persistence/postgres-event-store.js';
import { PostgresSnapshotStore } from './persistence/postgres-snapshot-store.js';
import { eventStoreApiKeys, eventStoreAuditLogs } from './persistence/schema.js';
import { createEventRelay, type EventRelay } from './relay/event-relay.js';
import { kafkaCheckpointName, relayCheckpoint } from './relay/relay-checkpoint.js';
import { createRelayMetrics } from './relay/relay-metrics.js';
import { eventRoutes } from './rest/event-routes.js';
import { globalLogRoutes } from './rest/global-log-routes.js';
import { snapshotRoutes } from './rest/snapshot-routes.js';
import { streamRoutes } from './rest/stream-routes.js';
import { eventStoreRoles, eventStoreRpcRole } from './roles.js';
import { createUseCases } from './use-cases.js';

export type EventStoreServiceDefinition = ServiceDefinition<typeof eventStoreConfigSchema>;

export function limitsOf(config: EventStoreConfig) {
  const section = config.event_store;
  return {
    maxEventsPerAppend: section.max_events_per_append,
    maxPageSize: section.max_page_size,
    defaultPageSize: section.default_page_size,
    maxReadAllLimit: section.max_read_all_limit,
    defaultReadAllLimit: section.default_read_all_limit,
    maxEventBytes: section.max_event_bytes,
    maxRequestBytes: section.max_request_bytes,
  };
}

export interface EventStoreServiceOptions {
  /** How the relay reaches Kafka when `kafka.brokers` is set; default: the platform's Kafka publisher. */
  publisher?: (config: EventStoreConfig) => Publisher;
}

/** Wires the adapters, the use cases (shared by REST and gRPC), the new-events signal and the relay. */
function build(kernel: Kernel<EventStoreConfig>, options: EventStoreServiceOptions): AppParts {
  const { config, database, logger } = kernel;
  const durations = eventStoreDurations(config);
  durations.renamed.warn(logger);
  const events = new PostgresEventStore(database);
  const newEvents = createNewEventsSignal(database, logger);
  new Gauge({
    name: 'event_store_new_events_listeners',
    help: 'In-process readers waiting for new events (open SubscribeAll streams, the active relay)',
    registers: [kernel.metrics.registry],
    collect() {
      this.set(newEvents.listenerCount);
    },
  });
  const useCaseDeps = {
    events,
    snapshots: new PostgresSnapshotStore(database),
    newEvents,
    limits: limitsOf(config),
    subscribePollIntervalMs: durations.subscribePollIntervalMs,
  };
  const useCases = createUseCases(useCaseDeps);
  // The same use cases over the same store, its stream and global-log reads returning events the
  // gRPC encoder copies from their stored wire bodies (issue 13).
  const grpcUseCases = createUseCases({ ...useCaseDeps, events: events.wireReads() });
  // The relay runs only when Kafka is configured (SPEC §2: without brokers it is off); its
  // metrics exist either way, and with the relay off the lag gauge counts what waits (SPEC §7).
  const relayMetrics = createRelayMetrics(kernel.metrics.registry);
  let relay: EventRelay | undefined;
  let publisher: Publisher | undefined;
  const readiness: Record<string, ReadinessCheck> = {};
  if (config.kafka.brokers.length > 0) {
    const activePublisher = (options.publisher ?? kafkaPublisherFor)(config);
    publisher = activePublisher;
    relay = createEventRelay({
      database,
      events,
      newEvents,
      publisher: activePublisher,
      topic: config.kafka.topic_published,
      logger,
      metrics: relayMetrics,
      batchSize: config.relay.batch_size,
      pollIntervalMs: durations.relayPollIntervalMs,
    });
    readiness.kafka = async () => {
      await activePublisher.ping?.();
    };
  }
  return {
    readiness,
    async rest(app) {
      await app.register(eventRoutes(useCases));
      await app.register(snapshotRoutes(useCases));
      await app.register(streamRoutes(useCases));
      await app.register(globalLogRoutes(useCases));
    },
    connect: {
      routes: eventStoreGrpcRoutes(grpcUseCases, kernel.shutdownSignal),
      roleFor: eventStoreRpcRole,
    },
    async start() {
      await newEvents.start();
      if (relay) relay.start();
      else {
        const checkpoint = relayCheckpoint(database, kafkaCheckpointName(config.kafka.topic_published));
        relayMetrics.trackLag(() => checkpoint.lag());
      }
    },
    async stop() {
      await relay?.stop(durations.relayFlushTimeoutMs);
      await newEvents.stop();
      await publisher?.close();
    },
  };
}

/** The event-store service (spec 002 + SPEC §6): REST and gRPC over the same use cases, plus the Kafka relay. */
export function createEventStoreService(options: EventStoreServiceOptions = {}): EventStoreServiceDefinition {
  return {
    configDir: fileURLToPath(new URL('../config', import.meta.url)),
    schema: eventStoreConfigSchema,
    codes: eventStoreErrorCodes,
    openapi: {
      title: 'k1s0 system event store',
      description:
        'Append-only event streams, snapshots and the global log (SPEC §6). Errors use the ErrorEnvelope.',
    },
    metricsPrefix: 'event_store',
    migrations: {
      folder: fileURLToPath(new URL('../drizzle', import.meta.url)),
      schema: 'event_store',
      table: '__drizzle_migrations',
    },
    accessControl: { apiKeys: eventStoreApiKeys, auditLogs: eventStoreAuditLogs, roles: eventStoreRoles },
    build: (kernel) => build(kernel, options),
  };
}

export const eventStoreService: EventStoreServiceDefinition = createEventStoreService();
