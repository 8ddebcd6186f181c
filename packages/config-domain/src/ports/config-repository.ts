import type { ConfigEntry } from '../model/config-entry.js';
import type { PageWindow } from '../model/pagination.js';

export interface ConfigListQuery extends PageWindow {
  /** Case-insensitive literal substring of the key (not a pattern: escape LIKE wildcards). */
  readonly search?: string | undefined;
}

export interface ConfigListResult {
  readonly entries: ConfigEntry[];
  /** Count of all matching entries, ignoring offset/limit. */
  readonly total: number;
}

/** Reads of current entries. Errors other than "absent" are thrown (as AppError 'unavailable' for a down DB). */
export interface ConfigRepository {
  find(namespace: string, key: string): Promise<ConfigEntry | undefined>;

  /** Entries of exactly this namespace, sorted by key in code-unit order (Postgres: COLLATE "C"). */
  list(namespace: string, query: ConfigListQuery): Promise<ConfigListResult>;

  /**
   * Entries whose namespace's second segment is one of `serviceSegments`,
   * sorted by namespace then key (code-unit order).
   */
  findByService(serviceSegments: readonly string[]): Promise<ConfigEntry[]>;
}
