export * from './relay-loop.js';
