export * from './dead-letter.js';
export * from './relay-loop.js';
