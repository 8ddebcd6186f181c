export * from './connect-errors.js';
export * from './connect-gate.js';
export * from './error-envelope.js';
export * from './readiness.js';
export * from './request-id.js';
export * from './service-runtime.js';
export * from './stream-limits.js';
export * from './validation.js';
