import { inScope, type Scopes } from '@k1s0/platform/scopes';
import { eventStoreErrors } from '../errors.js';

export { inScope, type Scopes };

/** What every use case that touches streams takes from the caller's principal (SPEC §8). */
export interface CallerScopes {
  /** Stream-id patterns the caller is limited to (`order.*`, `order.42`); absent = unscoped. */
  scopes?: Scopes;
}

/** Direct access to a stream (read, append, snapshots, delete): 403 outside the scopes. */
export function assertStreamInScope(scopes: Scopes, streamId: string): void {
  if (!inScope(scopes, streamId)) throw eventStoreErrors.streamOutOfScope(streamId);
}
