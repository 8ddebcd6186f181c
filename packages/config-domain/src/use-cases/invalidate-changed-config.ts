import type { ConfigCache } from '../ports/config-cache.js';
import { serviceSegmentOf } from '../rules/namespace.js';
import { serviceNamesFor } from '../rules/service-name.js';

/**
 * Drops everything cached that a change of namespace/key makes stale: the entry itself and every
 * service bulk result that includes its namespace. Used by the write use cases and by the
 * cross-instance invalidation listener.
 */
export function invalidateChangedConfig(cache: ConfigCache, namespace: string, key: string): void {
  cache.invalidateEntry(namespace, key);
  const segment = serviceSegmentOf(namespace);
  if (segment === undefined) return;
  for (const serviceName of serviceNamesFor(segment)) cache.invalidateServiceEntries(serviceName);
}
