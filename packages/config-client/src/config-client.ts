import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import {
  authInterceptor,
  type BackoffOptions,
  backoffDelay,
  deferred,
  isTransient,
  K1s0Error,
  restClient,
  sleep,
  type TokenOptions,
  toK1s0Error,
  tokenGetter,
} from '@k1s0/client-kit';
import { type ConfigChangeEvent, ConfigService } from '@k1s0/proto/k1s0/system/config/v1/config_pb';
import { type CachedSnapshot, CacheWriter, cacheFilePath, readCache, writeCache } from './cache-file.js';
import { listNamespace, serviceNamespaces } from './rest-reads.js';
import { incomingChange, Snapshot, type SnapshotEntry } from './snapshot.js';
import type {
  ClientStatus,
  ConfigChange,
  InvalidValueEvent,
  JsonValue,
  StandardSchema,
  StatusEvent,
} from './types.js';

export interface ConfigClientOptions extends TokenOptions {
  /** config-server REST base URL (snapshot reads), e.g. http://localhost:8080 */
  readonly baseUrl: string;
  /**
   * config-server gRPC base URL (WatchConfig over HTTP/2), e.g. http://localhost:50051. The gRPC
   * port sends a quiet stream's headers at once, which tells the client its watch is established.
   */
  readonly grpcUrl: string;
  /** Exact namespaces to keep (e.g. `system.auth.database`). */
  readonly namespaces?: readonly string[];
  /**
   * Services whose whole configuration to keep (namespaces `*.<name>.*`, `-server` suffix dropped,
   * as GET /api/v1/config/services/:name). Namespaces created later are picked up live.
   */
  readonly services?: readonly string[];
  /** Directory for the last-known-good snapshot file; no cache when absent. */
  readonly cacheDir?: string;
  /** Reconnect delays (full jitter). */
  readonly backoff?: BackoffOptions;
  /** How long the first sync may keep retrying when there is no cache to fall back on (default 30 s). */
  readonly startTimeoutMs?: number;
  /** A watch whose response headers take longer is abandoned and retried (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Errors that do not stop the client (cache write failures, non-transient stream errors). */
  readonly onError?: (error: Error) => void;
}

export interface ConfigClient {
  /** Current status (see ClientStatus). */
  readonly status: ClientStatus;
  /** Highest change revision applied, undefined until one was seen. */
  readonly revision: number | undefined;
  get(namespace: string, key: string): JsonValue | undefined;
  /**
   * Typed read: the value validated by `schema` (zod 4 or any Standard Schema). A value that fails
   * is reported to onInvalid listeners and the last value that passed is returned instead.
   */
  get<T>(namespace: string, key: string, schema: StandardSchema<T>): T | undefined;
  /** Every kept key of a service, namespace -> key -> value (same matching rule as the server). */
  getService(name: string): Record<string, Record<string, JsonValue>>;
  /** Every kept entry. */
  entries(): { namespace: string; key: string; value: JsonValue; version: number }[];
  onChange(listener: (change: ConfigChange) => void): () => void;
  onStatus(listener: (event: StatusEvent) => void): () => void;
  onInvalid(listener: (event: InvalidValueEvent) => void): () => void;
  /** Ends the watch, writes the cache one last time and stops all timers. */
  close(): Promise<void>;
}

/** Same rule as the server's bulk fetch: 2nd namespace segment = name (or name without `-server`). */
export function namespaceBelongsTo(namespace: string, service: string): boolean {
  const segment = namespace.split('.')[1];
  return segment === service || segment === service.replace(/-server$/, '');
}

/**
 * One HTTP/2 connection per client, pinged every 15 s so a silently dead connection (no FIN, e.g.
 * a dropped network path) is noticed and the watch reconnects.
 */
export function watchSessions(grpcUrl: string): Http2SessionManager {
  return new Http2SessionManager(grpcUrl, { pingIntervalMs: 15_000, pingTimeoutMs: 10_000 });
}

class EstablishTimeout extends Error {
  constructor(ms: number) {
    super(`WatchConfig not established within ${ms} ms`);
  }
}

function timedOut(local: AbortController): K1s0Error | undefined {
  const reason: unknown = local.signal.reason;
  return reason instanceof EstablishTimeout
    ? new K1s0Error('unavailable', 'UNAVAILABLE', reason.message, undefined, [], undefined, { cause: reason })
    : undefined;
}

/**
 * Starts a client and resolves once it has something to serve: a fresh snapshot from the server,
 * or (server unreachable) the last-known-good file from `cacheDir`, in which case status is `stale`
 * and the client keeps trying to catch up in the background.
 */
export async function createConfigClient(options: ConfigClientOptions): Promise<ConfigClient> {
  const client = new LiveConfigClient(options);
  await client.start();
  return client;
}

class LiveConfigClient implements ConfigClient {
  private readonly snapshot = new Snapshot();
  private readonly getToken;
  private readonly rest;
  private readonly rpc;
  private readonly namespaces: readonly string[];
  private readonly services: readonly string[];
  private readonly abort = new AbortController();
  private readonly sessions: Http2SessionManager;
  private readonly changeListeners = new Set<(change: ConfigChange) => void>();
  private readonly statusListeners = new Set<(event: StatusEvent) => void>();
  private readonly invalidListeners = new Set<(event: InvalidValueEvent) => void>();
  private readonly lastGood = new WeakMap<object, Map<string, { version: number; value: unknown }>>();
  private readonly reported = new Set<string>();
  private readonly cacheFile: string | undefined;
  private readonly cacheWriter: CacheWriter | undefined;
  private currentStatus: ClientStatus = 'connecting';
  private lastRevision: number | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ConfigClientOptions) {
    this.getToken = tokenGetter(options);
    this.namespaces = [...(options.namespaces ?? [])];
    this.services = [...(options.services ?? [])];
    if (this.namespaces.length === 0 && this.services.length === 0)
      throw new TypeError('namespaces or services is required');
    this.rest = restClient(options.baseUrl, this.getToken);
    this.sessions = watchSessions(options.grpcUrl);
    this.rpc = createClient(
      ConfigService,
      createGrpcTransport({
        baseUrl: options.grpcUrl,
        sessionManager: this.sessions,
        interceptors: [authInterceptor(this.getToken)],
      }),
    );
    if (options.cacheDir !== undefined) {
      const identity = JSON.stringify([
        options.baseUrl,
        [...this.namespaces].sort(),
        [...this.services].sort(),
      ]);
      const file = cacheFilePath(options.cacheDir, identity);
      const dir = options.cacheDir;
      this.cacheFile = file;
      this.cacheWriter = new CacheWriter(
        () => writeCache(file, dir, this.cached()),
        (error) => this.reportError(error),
      );
    }
  }

  get status(): ClientStatus {
    return this.currentStatus;
  }

  get revision(): number | undefined {
    return this.lastRevision;
  }

  get<T>(namespace: string, key: string, schema?: StandardSchema<T>): T | JsonValue | undefined {
    const stored = this.snapshot.get(namespace, key);
    if (schema === undefined) return stored?.value;
    if (stored === undefined) return undefined;
    const id = `${namespace}\u0000${key}`;
    let good = this.lastGood.get(schema);
    if (good === undefined) {
      good = new Map();
      this.lastGood.set(schema, good);
    }
    const result = schema['~standard'].validate(stored.value);
    if (result instanceof Promise) throw new TypeError('asynchronous schemas are not supported by get()');
    if (result.issues === undefined) {
      good.set(id, { version: stored.version, value: result.value });
      return result.value;
    }
    const reportKey = `${id}\u0000${stored.version}`;
    if (!this.reported.has(reportKey)) {
      this.reported.add(reportKey);
      const issues = result.issues.map((issue) => ({
        message: issue.message,
        path: issue.path?.map((p) => (typeof p === 'object' ? p.key : p)),
      }));
      const event: InvalidValueEvent = {
        namespace,
        key,
        value: stored.value,
        version: stored.version,
        issues,
      };
      if (this.invalidListeners.size === 0)
        this.reportError(
          new Error(`${namespace}/${key} v${stored.version} fails its schema: ${issues[0]?.message}`),
        );
      for (const listener of this.invalidListeners) listener(event);
    }
    return good.get(id)?.value as T | undefined;
  }

  getService(name: string): Record<string, Record<string, JsonValue>> {
    const out: Record<string, Record<string, JsonValue>> = {};
    for (const namespace of this.snapshot.namespaceNames()) {
      if (!namespaceBelongsTo(namespace, name)) continue;
      const keys = this.snapshot.keysOf(namespace);
      if (keys === undefined) continue;
      const values: Record<string, JsonValue> = {};
      for (const [key, stored] of keys) values[key] = stored.value;
      out[namespace] = values;
    }
    return out;
  }

  entries() {
    return this.snapshot.entries().map((e) => ({ ...e }));
  }

  onChange(listener: (change: ConfigChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onStatus(listener: (event: StatusEvent) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  onInvalid(listener: (event: InvalidValueEvent) => void): () => void {
    this.invalidListeners.add(listener);
    return () => this.invalidListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.currentStatus === 'closed') return;
    this.abort.abort();
    await this.loop;
    this.sessions.abort();
    await this.cacheWriter?.flush();
    this.setStatus({ status: 'closed' });
  }

  /** First sync; falls back to the cache file when the server cannot be reached. */
  async start(): Promise<void> {
    const started = deferred<void>();
    this.loop = this.run(started.resolve).catch((error: unknown) => started.reject(error));
    const deadline = setTimeout(
      () =>
        started.reject(
          new K1s0Error(
            'unavailable',
            'UNAVAILABLE',
            'config-server not reachable at start-up and no cache',
            undefined,
          ),
        ),
      this.options.startTimeoutMs ?? 30_000,
    );
    try {
      await started.promise;
    } catch (error) {
      this.abort.abort();
      await this.loop;
      this.sessions.abort();
      throw error;
    } finally {
      clearTimeout(deadline);
    }
  }

  private async run(ready: () => void): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    let triedCache = false;
    let needSnapshot = true;
    while (!signal.aborted) {
      let error: Error | undefined;
      try {
        if (needSnapshot || this.lastRevision === undefined) {
          await this.listAndWatch(signal, () => {
            attempt = 0;
            needSnapshot = false;
            ready();
          });
        } else {
          await this.resume(this.lastRevision, signal, () => {
            attempt = 0;
          });
        }
      } catch (caught) {
        if (signal.aborted) break;
        error = toK1s0Error(caught);
        if (error instanceof K1s0Error && error.kind === 'failed_precondition') {
          // The server no longer keeps the history after our revision: fetch a fresh snapshot.
          needSnapshot = true;
        } else if (
          !isTransient(caught) &&
          !(error instanceof K1s0Error && error.kind === 'unauthenticated')
        ) {
          this.reportError(error);
        }
      }
      if (signal.aborted) break;
      // The stream ended (server shut down, network, error): keep serving what we have, reconnect.
      if (this.currentStatus === 'connecting' && !triedCache && this.cacheFile !== undefined) {
        triedCache = true;
        const cached = await readCache(this.cacheFile).catch((e: unknown) => {
          this.reportError(e as Error);
          return undefined;
        });
        if (cached !== undefined) {
          this.snapshot.replace(cached.entries);
          this.lastRevision = cached.revision;
          needSnapshot = cached.revision === undefined;
          this.setStatus({ status: 'stale', error, cacheSavedAt: cached.savedAt });
          ready();
        }
      } else if (this.currentStatus === 'live') {
        this.setStatus({ status: 'reconnecting', error });
      }
      await sleep(backoffDelay(attempt++, this.options.backoff), signal);
    }
  }

  /**
   * list+watch: open a live watch first, wait until the server has it subscribed (response headers),
   * then read the snapshot; changes that arrive meanwhile are buffered and applied on top by version.
   */
  private async listAndWatch(signal: AbortSignal, onLive: () => void): Promise<void> {
    const local = new AbortController();
    const stop = () => local.abort();
    signal.addEventListener('abort', stop, { once: true });
    const established = deferred<void>();
    const buffered: ConfigChangeEvent[] = [];
    let synced = false;
    const timer = this.establishTimer(local);
    const stream = this.rpc.watchConfig(
      { namespaces: this.watchFilter() },
      {
        signal: local.signal,
        onHeader: () => {
          clearTimeout(timer);
          established.resolve();
        },
      },
    );
    const pump = (async () => {
      for await (const event of stream) {
        if (synced) this.applyEvent(event);
        else buffered.push(event);
      }
    })();
    try {
      // A stream that fails before its headers rejects `pump`; surface that instead of waiting.
      await Promise.race([established.promise, pump.then(() => established.promise)]);
      const entries = await this.fetchSnapshot(signal);
      const changes = this.snapshot.replace(entries);
      // The revision of a fresh snapshot is not known until the first change after it arrives.
      this.lastRevision = undefined;
      for (const change of changes) this.emit(change);
      for (const event of buffered.splice(0)) this.applyEvent(event);
      synced = true;
      this.setStatus({ status: 'live' });
      this.cacheWriter?.schedule();
      onLive();
      await pump;
    } catch (error) {
      throw timedOut(local) ?? error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      local.abort();
      await pump.catch(() => undefined);
    }
  }

  /** Resume: WatchConfig from our revision replays what we missed, then goes live. */
  private async resume(fromRevision: number, signal: AbortSignal, onOpen: () => void): Promise<void> {
    const local = new AbortController();
    const stop = () => local.abort();
    signal.addEventListener('abort', stop, { once: true });
    const timer = this.establishTimer(local);
    try {
      const stream = this.rpc.watchConfig(
        { namespaces: this.watchFilter(), fromRevision: BigInt(fromRevision) },
        {
          signal: local.signal,
          onHeader: () => {
            clearTimeout(timer);
            onOpen();
            this.setStatus({ status: 'live' });
          },
        },
      );
      for await (const event of stream) this.applyEvent(event);
    } catch (error) {
      throw timedOut(local) ?? error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }

  /** A stream whose headers do not arrive in time (a half-dead connection) is abandoned and retried. */
  private establishTimer(local: AbortController): ReturnType<typeof setTimeout> {
    const ms = this.options.connectTimeoutMs ?? 10_000;
    return setTimeout(() => local.abort(new EstablishTimeout(ms)), ms);
  }

  /** Exact namespaces when only namespaces are kept; all (filtered here) when services are. */
  private watchFilter(): string[] {
    return this.services.length > 0 ? [] : [...this.namespaces];
  }

  private wanted(namespace: string): boolean {
    return this.namespaces.includes(namespace) || this.services.some((s) => namespaceBelongsTo(namespace, s));
  }

  private applyEvent(event: ConfigChangeEvent): void {
    const change = incomingChange(event);
    if (this.lastRevision !== undefined && change.revision <= this.lastRevision) return;
    if (!this.wanted(change.namespace)) return;
    this.lastRevision = change.revision;
    const applied = this.snapshot.apply(change);
    if (applied !== undefined) this.emit(applied);
    this.cacheWriter?.schedule();
  }

  private async fetchSnapshot(signal: AbortSignal): Promise<SnapshotEntry[]> {
    const namespaces = new Set(this.namespaces);
    for (const service of this.services)
      for (const ns of await serviceNamespaces(this.rest, service, signal)) namespaces.add(ns);
    const entries: SnapshotEntry[] = [];
    for (const namespace of namespaces) entries.push(...(await listNamespace(this.rest, namespace, signal)));
    return entries;
  }

  private cached(): CachedSnapshot {
    return {
      format: 1,
      savedAt: new Date().toISOString(),
      revision: this.lastRevision,
      entries: this.snapshot.entries(),
    };
  }

  private emit(change: ConfigChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (error) {
        this.reportError(error as Error);
      }
    }
  }

  private setStatus(event: StatusEvent): void {
    if (event.status === this.currentStatus) return;
    this.currentStatus = event.status;
    for (const listener of this.statusListeners) listener(event);
  }

  private reportError(error: Error): void {
    this.options.onError?.(error);
  }
}
