export * from './kafka-mock.js';
