// Entry points for other packages and tests: the service definition and the relay building blocks.
export { type EventStoreConfig, eventStoreConfigSchema } from './config.js';
export { eventStoreService } from './service.js';
