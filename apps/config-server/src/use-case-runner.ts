import { traced } from '@k1s0/platform';
import { withRequestId } from './request-context.js';

/**
 * How REST and gRPC handlers call a use case: inside a span named after it (SPEC §7) and with the
 * request id in context (it becomes the events' correlation id).
 */
export function runUseCase<T>(name: string, requestId: string, fn: () => Promise<T>): Promise<T> {
  return withRequestId(requestId, () => traced(`config.${name}`, fn));
}
