import { traced } from '@k1s0/platform';
import type { AccessAudit, CallSite, ReadItem } from './access-audit.js';
import { withRequestId } from './request-context.js';

export interface UseCaseCall extends CallSite {
  /** The use case, e.g. `GetConfig`: the span name (SPEC §7) and the audit records' operation. */
  name: string;
  requestId: string;
}

export type UseCaseRunner = <T>(
  call: UseCaseCall,
  fn: () => Promise<T>,
  /** What of the result reaches the caller, for `secret.read` records (reads only). */
  readItems?: (result: T) => Iterable<ReadItem>,
) => Promise<T>;

/**
 * How REST and gRPC handlers call a use case: inside a span named after it (SPEC §7), with the
 * request id in context (it becomes the events' correlation id), and audited in one place for
 * both protocols: a secret value handed back in plaintext becomes `secret.read` (AccessAudit).
 * A refusal (permission_denied) is recorded by the platform where errors are translated.
 */
export function createUseCaseRunner(audit: AccessAudit): UseCaseRunner {
  return async (call, fn, readItems) => {
    const result = await withRequestId(call.requestId, () => traced(`config.${call.name}`, fn));
    if (readItems !== undefined) audit.secretsRead(call, call.name, readItems(result));
    return result;
  };
}
