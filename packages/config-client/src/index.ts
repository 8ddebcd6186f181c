export {
  type BackoffOptions,
  type ErrorDetail,
  type ErrorKind,
  K1s0Error,
  type TokenProvider,
} from '@k1s0/client-kit';
export {
  type ConfigAdmin,
  type ConfigAdminOptions,
  type ConfigEntry,
  type ConfigHistoryEntry,
  createConfigAdmin,
  type Pagination,
  type WatchOptions,
} from './admin.js';
export {
  type ConfigClient,
  type ConfigClientOptions,
  createConfigClient,
  namespaceBelongsTo,
} from './config-client.js';
export type { IncomingChange as WatchedChange } from './snapshot.js';
export type * from './types.js';
