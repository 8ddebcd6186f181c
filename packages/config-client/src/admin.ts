import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  authInterceptor,
  type BackoffOptions,
  backoffDelay,
  isTransient,
  restClient,
  sleep,
  type TokenOptions,
  tokenGetter,
} from '@k1s0/client-kit';
import { ConfigService } from '@k1s0/proto/k1s0/system/config/v1/config_pb';
import { type IncomingChange, incomingChange } from './snapshot.js';
import type { JsonValue } from './types.js';

/** Entry JSON of the REST API (SPEC §5). */
export interface ConfigEntry {
  id: string;
  namespace: string;
  key: string;
  value: JsonValue;
  version: number;
  description: string;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

/** One change-log row (history). */
export interface ConfigHistoryEntry {
  revision: number;
  id: string;
  config_entry_id: string;
  namespace: string;
  key: string;
  old_value: JsonValue | null;
  new_value: JsonValue | null;
  old_version: number;
  new_version: number;
  change_type: 'CREATED' | 'UPDATED' | 'DELETED';
  changed_by: string;
  changed_at: string;
}

export interface Pagination {
  total_count: number;
  page: number;
  page_size: number;
  has_next: boolean;
}

export interface ConfigAdminOptions extends TokenOptions {
  /** config-server REST base URL, e.g. http://localhost:8080 */
  readonly baseUrl: string;
  /** config-server gRPC base URL (for watch), e.g. http://localhost:50051 */
  readonly grpcUrl?: string;
  readonly backoff?: BackoffOptions;
}

export interface WatchOptions {
  /** Exact namespaces; empty = all (sys_auditor). */
  readonly namespaces?: readonly string[];
  /** Replay every change after this revision first (sys_auditor). */
  readonly fromRevision?: number;
  readonly signal?: AbortSignal;
}

/** Direct, uncached operations (what k1s0ctl uses); errors are K1s0Error. */
export interface ConfigAdmin {
  get(namespace: string, key: string): Promise<ConfigEntry>;
  list(
    namespace: string,
    options?: { page?: number; pageSize?: number; search?: string },
  ): Promise<{ entries: ConfigEntry[]; pagination: Pagination }>;
  /** Every entry of a namespace, all pages. */
  listAll(namespace: string, options?: { search?: string }): Promise<ConfigEntry[]>;
  /** Create (`version` 0) or update (`version` = current); `created` tells which. */
  put(
    namespace: string,
    key: string,
    value: JsonValue,
    options: { version: number; description?: string },
  ): Promise<{ entry: ConfigEntry; created: boolean }>;
  delete(namespace: string, key: string): Promise<void>;
  history(
    namespace: string,
    key: string,
    options?: { page?: number; pageSize?: number },
  ): Promise<{ history: ConfigHistoryEntry[]; pagination: Pagination }>;
  rollback(
    namespace: string,
    key: string,
    options: { toVersion: number; version: number },
  ): Promise<ConfigEntry>;
  /**
   * WatchConfig as an async iterator. After a disconnect it reconnects (backoff with jitter) with
   * `from_revision` = the last revision delivered, so nothing is skipped or repeated once a change
   * has been seen (before the first change, a reconnect is live-only again).
   */
  watch(options?: WatchOptions): AsyncIterable<IncomingChange>;
}

const path = (namespace: string, key?: string) =>
  `/api/v1/config/${encodeURIComponent(namespace)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;

export function createConfigAdmin(options: ConfigAdminOptions): ConfigAdmin {
  const getToken = tokenGetter(options);
  const rest = restClient(options.baseUrl, getToken);
  const rpc = () => {
    if (options.grpcUrl === undefined) throw new TypeError('watch needs grpcUrl');
    return createClient(
      ConfigService,
      createGrpcTransport({ baseUrl: options.grpcUrl, interceptors: [authInterceptor(getToken)] }),
    );
  };
  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) search.set(name, String(value));
    const text = search.toString();
    return text === '' ? '' : `?${text}`;
  };

  const admin: ConfigAdmin = {
    get: (namespace, key) => rest.request<ConfigEntry>('GET', path(namespace, key)),
    list: (namespace, o = {}) =>
      rest.request(
        'GET',
        `${path(namespace)}${query({ page: o.page, page_size: o.pageSize, search: o.search })}`,
      ),
    async listAll(namespace, o = {}) {
      const out: ConfigEntry[] = [];
      for (let page = 1; ; page++) {
        const body = await admin.list(namespace, {
          page,
          pageSize: 100,
          ...(o.search ? { search: o.search } : {}),
        });
        out.push(...body.entries);
        if (!body.pagination.has_next) return out;
      }
    },
    async put(namespace, key, value, o) {
      const body = {
        value,
        version: o.version,
        ...(o.description === undefined ? {} : { description: o.description }),
      };
      const entry = await rest.request<ConfigEntry>('PUT', path(namespace, key), body);
      return { entry, created: o.version === 0 };
    },
    async delete(namespace, key) {
      await rest.request<undefined>('DELETE', path(namespace, key));
    },
    history: (namespace, key, o = {}) =>
      rest.request('GET', `${path(namespace, key)}/history${query({ page: o.page, page_size: o.pageSize })}`),
    rollback: (namespace, key, o) =>
      rest.request('POST', `${path(namespace, key)}/rollback`, {
        to_version: o.toVersion,
        version: o.version,
      }),
    async *watch(o = {}) {
      const watcher = rpc();
      let last = o.fromRevision;
      for (let attempt = 0; !o.signal?.aborted; ) {
        try {
          const stream = watcher.watchConfig(
            {
              namespaces: [...(o.namespaces ?? [])],
              ...(last === undefined ? {} : { fromRevision: BigInt(last) }),
            },
            { ...(o.signal ? { signal: o.signal } : {}), onHeader: () => (attempt = 0) },
          );
          for await (const event of stream) {
            const change = incomingChange(event);
            last = change.revision;
            yield change;
          }
        } catch (error) {
          if (o.signal?.aborted) return;
          if (!isTransient(error)) throw error;
        }
        await sleep(backoffDelay(attempt++, options.backoff), o.signal);
      }
    },
  };
  return admin;
}
