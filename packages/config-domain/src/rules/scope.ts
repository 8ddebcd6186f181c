import { inScope, type Scopes } from '@k1s0/platform/scopes';
import { configErrors } from '../errors.js';

export { inScope, type Scopes };

/** What every use case that touches namespaces takes from the caller's principal (SPEC §8). */
export interface CallerScopes {
  /** Namespace patterns the caller is limited to; absent = unscoped. */
  readonly scopes?: Scopes;
}

/** Direct access (get, put, delete, list, history, rollback): 403 outside the scopes. */
export function assertNamespaceInScope(scopes: Scopes, namespace: string): void {
  if (!inScope(scopes, namespace)) throw configErrors.outOfScope(namespace);
}
