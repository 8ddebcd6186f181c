export * from './push-stream.js';
export * from './stream-hooks.js';
