export * from './kafka-consumer.js';
export * from './kafka-mock.js';
export * from './postgres.js';
