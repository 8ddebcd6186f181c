import type { ConfigChange, PendingConfigChange } from '../model/config-change.js';
import type { ConfigEntry } from '../model/config-entry.js';

/**
 * Result of an atomic write. `conflict` means the compare-and-set did not match and NOTHING was
 * written; the use case then re-reads and decides again (VERSION_CONFLICT, KEY_NOT_FOUND, or retry).
 */
export type WriteResult =
  | { readonly outcome: 'committed'; readonly change: ConfigChange }
  | { readonly outcome: 'conflict' };

/**
 * The only way entries change. Each call is ONE database transaction that writes
 *   1. the entry row (insert / update / delete),
 *   2. the `config_change_logs` row for `change`, with the next global revision, and
 *   3. the outbox row (ConfigChangedEvent built from the committed change),
 * and signals other instances (NOTIFY) so their caches and watch feeds see it. Either all
 * three rows commit or none do (SPEC §5: a change never exists without its log and vice versa).
 *
 * Revision visibility: revisions must become visible in increasing order — once any reader can
 * see revision r, no change with a revision below r may commit later (e.g. serialize writers on a
 * transaction-scoped advisory lock taken before drawing the revision). WatchConfig's
 * "no gap at the replay/live boundary" relies on this.
 *
 * Resolves only once the transaction has committed (SPEC §7: a 2xx means durably committed).
 * Infrastructure failures reject (as AppError 'unavailable' when the database is unreachable).
 */
export interface ConfigWriter {
  /**
   * Creates the entry. `conflict` if (namespace, key) already exists (unique violation).
   * `requestId` (every method): the request that made the change, the event's correlation id
   * ('' outside a request); passed explicitly from the edge, as the actor is.
   */
  insert(entry: ConfigEntry, change: PendingConfigChange, requestId: string): Promise<WriteResult>;

  /**
   * Replaces the row `WHERE id = next.id AND version = expectedVersion` with `next`.
   * `conflict` when 0 rows matched (changed, deleted or re-created concurrently).
   */
  update(
    next: ConfigEntry,
    expectedVersion: number,
    change: PendingConfigChange,
    requestId: string,
  ): Promise<WriteResult>;

  /** Deletes the row `WHERE id = current.id AND version = current.version`; `conflict` when 0 rows matched. */
  remove(current: ConfigEntry, change: PendingConfigChange, requestId: string): Promise<WriteResult>;
}
