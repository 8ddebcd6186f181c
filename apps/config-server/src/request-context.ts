import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestContext {
  /** The request id (REST `X-Request-Id` / gRPC `x-request-id`), used as the events' correlation id. */
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `requestId` visible to everything it calls (e.g. the outbox event builder). */
export function withRequestId<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
  return storage.run({ requestId }, fn);
}

/** The request id of the caller's request, '' outside one. */
export function currentRequestId(): string {
  return storage.getStore()?.requestId ?? '';
}
