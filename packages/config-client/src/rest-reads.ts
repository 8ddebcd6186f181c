import type { RestClient } from '@k1s0/client-kit';
import type { SnapshotEntry } from './snapshot.js';
import type { JsonValue } from './types.js';

interface EntryJson {
  namespace: string;
  key: string;
  value: JsonValue;
  version: number;
}

interface ListJson {
  entries: EntryJson[];
  pagination: { has_next: boolean };
}

/** Every entry of one namespace (REST list, 100 a page; needs sys_auditor). */
export async function listNamespace(
  rest: RestClient,
  namespace: string,
  signal?: AbortSignal,
): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  for (let page = 1; ; page++) {
    const body = await rest.request<ListJson>(
      'GET',
      `/api/v1/config/${encodeURIComponent(namespace)}?page=${page}&page_size=100`,
      undefined,
      signal,
    );
    for (const e of body.entries)
      out.push({ namespace: e.namespace, key: e.key, value: e.value, version: e.version });
    if (!body.pagination.has_next) return out;
  }
}

/** Namespaces holding a service's configuration now (none when the service has no entries). */
export async function serviceNamespaces(
  rest: RestClient,
  service: string,
  signal?: AbortSignal,
): Promise<string[]> {
  try {
    const body = await rest.request<{ entries: { namespace: string }[] }>(
      'GET',
      `/api/v1/config/services/${encodeURIComponent(service)}`,
      undefined,
      signal,
    );
    return [...new Set(body.entries.map((e) => e.namespace))];
  } catch (error) {
    if ((error as { kind?: string }).kind === 'not_found') return [];
    throw error;
  }
}
