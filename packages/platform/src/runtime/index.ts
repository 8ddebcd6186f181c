export * from './any-signal.js';
export * from './boot.js';
export * from './node-args.js';
export * from './per-object.js';
export * from './repo-root.js';
