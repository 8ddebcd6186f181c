export * from './kafka-mock.js';
export * from './postgres.js';
