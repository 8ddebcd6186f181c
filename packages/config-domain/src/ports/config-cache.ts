import type { ConfigEntry } from '../model/config-entry.js';

/**
 * Process-local read cache (mnemonist LRU + TTL in the app). Synchronous on purpose: it is
 * in-memory, and the read-after-write guarantee needs invalidation to happen before a write returns.
 * Cross-instance invalidation (LISTEN/NOTIFY) calls `invalidateChangedConfig` on it.
 */
export interface ConfigCache {
  getEntry(namespace: string, key: string): ConfigEntry | undefined;
  setEntry(entry: ConfigEntry): void;
  invalidateEntry(namespace: string, key: string): void;

  /** Bulk result of GetServiceConfig, keyed by the requested service name. */
  getServiceEntries(serviceName: string): readonly ConfigEntry[] | undefined;
  setServiceEntries(serviceName: string, entries: readonly ConfigEntry[]): void;
  invalidateServiceEntries(serviceName: string): void;

  /**
   * A number that changes on every invalidation. A reader notes it before reading the database and
   * stores its result only if it is unchanged afterwards, so a read racing a write can't put the
   * old value back into the cache after the write invalidated it.
   */
  generation(): number;
}

/** Cache key of an entry, as SPEC §5 names it. */
export function configCacheKey(namespace: string, key: string): string {
  return `${namespace}:${key}`;
}
