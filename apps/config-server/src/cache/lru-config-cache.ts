import { type ConfigCache, type ConfigEntry, configCacheKey } from '@k1s0/config-domain';
import { Counter, type Registry } from '@k1s0/platform';
import { LRUCacheWithDelete } from 'mnemonist';

export interface LruConfigCacheOptions {
  /** Per cache (entries and service bulk results each hold at most this many). */
  maxEntries: number;
  ttlMs: number;
  /** Registers `<prefix>_cache_hits_total` / `_misses_total` (label `cache`: entry | service). */
  metrics?: { registry: Registry; prefix: string };
  now?: () => number;
}

interface Slot<V> {
  readonly value: V;
  readonly expiresAt: number;
}

type CacheName = 'entry' | 'service';

/**
 * The process-local read cache (SPEC §5, design 000 "キャッシュ戦略"): mnemonist LRU with a TTL per
 * slot, key `namespace:key`, plus GetServiceConfig bulk results by service name.
 */
export class LruConfigCache implements ConfigCache {
  private readonly entries: LRUCacheWithDelete<string, Slot<ConfigEntry>>;
  private readonly services: LRUCacheWithDelete<string, Slot<readonly ConfigEntry[]>>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly hits: Counter<'cache'> | undefined;
  private readonly misses: Counter<'cache'> | undefined;
  private invalidations = 0;

  constructor(options: LruConfigCacheOptions) {
    this.entries = new LRUCacheWithDelete(options.maxEntries);
    this.services = new LRUCacheWithDelete(options.maxEntries);
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    if (options.metrics) {
      const { registry, prefix } = options.metrics;
      this.hits = new Counter({
        name: `${prefix}_cache_hits_total`,
        help: 'Config cache lookups answered from memory',
        labelNames: ['cache'] as const,
        registers: [registry],
      });
      this.misses = new Counter({
        name: `${prefix}_cache_misses_total`,
        help: 'Config cache lookups that went to the database',
        labelNames: ['cache'] as const,
        registers: [registry],
      });
    }
  }

  getEntry(namespace: string, key: string): ConfigEntry | undefined {
    return this.read(this.entries, configCacheKey(namespace, key), 'entry');
  }

  setEntry(entry: ConfigEntry): void {
    this.entries.set(configCacheKey(entry.namespace, entry.key), this.slot(entry));
  }

  invalidateEntry(namespace: string, key: string): void {
    this.invalidations++;
    this.entries.delete(configCacheKey(namespace, key));
  }

  getServiceEntries(serviceName: string): readonly ConfigEntry[] | undefined {
    return this.read(this.services, serviceName, 'service');
  }

  setServiceEntries(serviceName: string, entries: readonly ConfigEntry[]): void {
    this.services.set(serviceName, this.slot(entries));
  }

  invalidateServiceEntries(serviceName: string): void {
    this.invalidations++;
    this.services.delete(serviceName);
  }

  generation(): number {
    return this.invalidations;
  }

  /** Drops everything, e.g. after the invalidation feed may have missed notifications. */
  clear(): void {
    this.invalidations++;
    this.entries.clear();
    this.services.clear();
  }

  private slot<V>(value: V): Slot<V> {
    return { value, expiresAt: this.now() + this.ttlMs };
  }

  private read<V>(cache: LRUCacheWithDelete<string, Slot<V>>, key: string, name: CacheName): V | undefined {
    const slot = cache.get(key);
    if (slot !== undefined && slot.expiresAt > this.now()) {
      this.hits?.inc({ cache: name });
      return slot.value;
    }
    if (slot !== undefined) cache.delete(key);
    this.misses?.inc({ cache: name });
    return undefined;
  }
}
