import type { ConfigChange } from '../model/config-change.js';
import type { PageWindow } from '../model/pagination.js';

export interface ChangeHistory {
  readonly changes: ConfigChange[];
  /** Count of all changes of the key, ignoring offset/limit. */
  readonly total: number;
}

/** Reads of the change log (written only through ConfigWriter). */
export interface ChangeLogRepository {
  /**
   * Every change ever recorded for namespace + key, across deletes and re-creations,
   * newest first (descending revision).
   */
  history(namespace: string, key: string, window: PageWindow): Promise<ChangeHistory>;

  /**
   * The change that produced `version` of the entry with id `configEntryId` (its `newVersion`
   * equals `version`; DELETED rows have newVersion 0 so never match a version ≥ 1).
   */
  findVersion(configEntryId: string, version: number): Promise<ConfigChange | undefined>;

  /**
   * Changes with revision > `afterRevision`, ascending by revision, at most `limit`; only those
   * whose namespace is in `namespaces` unless it is empty (= all).
   */
  changesAfter(afterRevision: bigint, namespaces: readonly string[], limit: number): Promise<ConfigChange[]>;

  /**
   * Every change with a revision ≥ this value is still in the log; older ones may have been pruned
   * by retention. 1n when nothing was ever pruned; after pruning, the lowest retained revision
   * (or the next revision to be assigned when the log is empty).
   */
  oldestRetainedRevision(): Promise<bigint>;
}
