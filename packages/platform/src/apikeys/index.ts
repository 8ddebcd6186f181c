export * from './access-control-routes.js';
export * from './api-key-secret.js';
export * from './api-keys.js';
export * from './api-keys-table.js';
