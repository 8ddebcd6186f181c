export * from './config/index.js';
export * from './errors/index.js';
export * from './http/index.js';
export * from './observability/index.js';
export * from './auth/index.js';
export * from './runtime/index.js';
