export {
  type BackoffOptions,
  type ErrorDetail,
  type ErrorKind,
  K1s0Error,
  type TokenProvider,
} from '@k1s0/client-kit';
export { type ConfigAdmin, type ConfigAdminOptions, createConfigAdmin } from './admin.js';
export {
  type ConfigClient,
  type ConfigClientOptions,
  createConfigClient,
  namespaceBelongsTo,
} from './config-client.js';
export type * from './types.js';
