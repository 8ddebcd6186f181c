// Shared by @k1s0/config-client and @k1s0/event-store-client; bundled into each at build time.
export * from './auth.js';
export * from './backoff.js';
export * from './errors.js';
export * from './rest.js';
