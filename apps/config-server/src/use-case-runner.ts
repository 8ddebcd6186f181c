import type { AccessAudit, CallSite, ReadItem } from './access-audit.js';

export interface UseCaseCall extends CallSite {
  /** The use case, e.g. `GetConfig`: the audit records' operation. */
  name: string;
}

export type UseCaseRunner = <T>(
  call: UseCaseCall,
  fn: () => Promise<T>,
  /** What of the result reaches the caller, for `secret.read` records (reads only). */
  readItems?: (result: T) => Iterable<ReadItem>,
) => Promise<T>;

/**
 * How REST and gRPC handlers call a use case: audited in one place for both protocols — a secret
 * value handed back in plaintext becomes `secret.read` (AccessAudit). The span is the use case's
 * own (use-cases.ts); the request id and actor go into the use case's input explicitly. A refusal
 * (permission_denied) is recorded by the platform where errors are translated.
 */
export function createUseCaseRunner(audit: AccessAudit): UseCaseRunner {
  return async (call, fn, readItems) => {
    const result = await fn();
    if (readItems !== undefined) audit.secretsRead(call, call.name, readItems(result));
    return result;
  };
}
