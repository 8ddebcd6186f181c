export * from './logger.js';
export * from './metrics.js';
export * from './redact-error.js';
export * from './tracing.js';
export * from './tracing-export.js';
