export {
  type BackoffOptions,
  type ErrorDetail,
  type ErrorKind,
  K1s0Error,
  type TokenProvider,
} from '@k1s0/client-kit';
export { type CheckpointStore, fileCheckpoint } from './checkpoint.js';
export {
  type Aggregate,
  createEventStoreClient,
  type EventStoreClient,
  type EventStoreClientOptions,
  type ReadOptions,
  type SubscribeOptions,
} from './event-store-client.js';
export type * from './types.js';
