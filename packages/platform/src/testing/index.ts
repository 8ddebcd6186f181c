export * from './postgres.js';
export * from './kafka-mock.js';
