export * from './enqueue.js';
export * from './kafka-publisher.js';
export * from './outbox-metrics.js';
export * from './outbox-relay.js';
export * from './outbox-table.js';
export * from './publisher.js';
