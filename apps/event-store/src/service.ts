import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@k1s0/platform';
import { type EventStoreConfig, eventStoreConfigSchema } from './config.js';
import { eventStoreErrorCodes } from './error-codes.js';
import { eventStoreGrpcRoutes, eventStoreRoleFor } from './grpc/event-store-service.js';
import { createNewEventsSignal } from './persistence/new-events-signal.js';
import { PostgresEventStore } from './persistence/postgres-event-store.js';
import { PostgresSnapshotStore } from './persistence/postgres-snapshot-store.js';
import { eventRoutes } from './rest/event-routes.js';
import { globalLogRoutes } from './rest/global-log-routes.js';
import { snapshotRoutes } from './rest/snapshot-routes.js';
import { streamRoutes } from './rest/stream-routes.js';
import { createUseCases } from './use-cases.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));

export type EventStoreServiceDefinition = ServiceDefinition<typeof eventStoreConfigSchema>;

export function limitsOf(config: EventStoreConfig) {
  const section = config.event_store;
  return {
    maxEventsPerAppend: section.max_events_per_append,
    maxPageSize: section.max_page_size,
    defaultPageSize: section.default_page_size,
    maxReadAllLimit: section.max_read_all_limit,
    defaultReadAllLimit: section.default_read_all_limit,
  };
}

/** The event-store service (spec 002 + SPEC §6): REST and gRPC over the same use cases. */
export const eventStoreService: EventStoreServiceDefinition = {
  configDir: `${appDir}config`,
  schema: eventStoreConfigSchema,
  codes: eventStoreErrorCodes,
  metricsPrefix: 'event_store',
  migrations: { folder: `${appDir}drizzle`, schema: 'event_store', table: '__drizzle_migrations' },
  build(kernel) {
    const { config, database, logger } = kernel;
    const events = new PostgresEventStore(database);
    const newEvents = createNewEventsSignal(database, logger);
    const useCases = createUseCases({
      events,
      snapshots: new PostgresSnapshotStore(database),
      newEvents,
      limits: limitsOf(config),
      subscribePollIntervalMs: config.event_store.subscribe_poll_interval_ms,
    });
    return {
      async rest(app) {
        await app.register(eventRoutes(useCases));
        await app.register(snapshotRoutes(useCases));
        await app.register(streamRoutes(useCases));
        await app.register(globalLogRoutes(useCases));
      },
      connect: {
        routes: eventStoreGrpcRoutes(useCases, kernel.shutdownSignal),
        roleFor: eventStoreRoleFor,
      },
      async start() {
        await newEvents.start();
      },
      async stop() {
        await newEvents.stop();
      },
    };
  },
};
