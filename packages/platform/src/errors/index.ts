export * from './app-error.js';
export * from './status.js';
export * from './storable-text.js';
export * from './violations.js';
