export * from './database.js';
export * from './errors.js';
export * from './group-commit.js';
export * from './migrate.js';
export * from './ordered-log.js';
export * from './pool-metrics.js';
export * from './transaction.js';
export { CoalescedNotifier, wakeUp } from './wake-up.js';
