// Entry points for other packages and tests: the service definition and the relay building blocks.
export { type EventStoreConfig, eventStoreConfigSchema } from './config.js';
export { createNewEventsSignal } from './persistence/new-events-signal.js';
export { PostgresEventStore } from './persistence/postgres-event-store.js';
export { createEventRelay, type EventRelay, type EventRelayOptions } from './relay/event-relay.js';
export { publishedMessage } from './relay/published-message.js';
export { createRelayMetrics } from './relay/relay-metrics.js';
export {
  createEventStoreService,
  type EventStoreServiceOptions,
  eventStoreService,
} from './service.js';
