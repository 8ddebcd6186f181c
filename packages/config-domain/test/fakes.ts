import {
  type ChangeFeed,
  type ChangeHistory,
  type ChangeListener,
  type ChangeLogRepository,
  type Clock,
  type ConfigCache,
  type ConfigChange,
  type ConfigEntry,
  type ConfigListQuery,
  type ConfigListResult,
  type ConfigRepository,
  type ConfigUseCaseDeps,
  type ConfigWriter,
  configCacheKey,
  configRules,
  DeleteConfig,
  GetConfig,
  GetConfigHistory,
  GetServiceConfig,
  type IdGenerator,
  ListConfigs,
  type PageWindow,
  type PendingConfigChange,
  RollbackConfig,
  UpdateConfig,
  WatchConfig,
  type WriteResult,
} from '../src/index.js';

type Hook = () => Promise<void> | void;

/**
 * One in-memory store playing every persistence port, with the adapter's contract: atomic
 * compare-and-set writes, a global revision per change, listeners told after commit in revision
 * order. Hooks let a test slip a "concurrent" write in at the exact point that matters.
 */
export class InMemoryConfigStore implements ConfigRepository, ConfigWriter, ChangeLogRepository, ChangeFeed {
  readonly entries = new Map<string, ConfigEntry>();
  readonly changes: ConfigChange[] = [];
  private nextRevision = 1n;
  private retainedFrom = 1n;
  private readonly listeners = new Set<ChangeListener>();
  /** Runs once before the next write's compare-and-set. */
  beforeNextWrite: Hook | undefined;
  /** Run once at the start / end of the next `changesAfter` call. */
  beforeNextChangesAfter: Hook | undefined;
  afterNextChangesAfter: Hook | undefined;
  readonly calls = { find: 0, findByService: 0, changesAfter: 0 };

  async find(namespace: string, key: string): Promise<ConfigEntry | undefined> {
    this.calls.find++;
    return this.entries.get(configCacheKey(namespace, key));
  }

  async list(namespace: string, query: ConfigListQuery): Promise<ConfigListResult> {
    const needle = query.search?.toLowerCase();
    const matching = [...this.entries.values()]
      .filter(
        (e) => e.namespace === namespace && (needle === undefined || e.key.toLowerCase().includes(needle)),
      )
      .sort((a, b) => compare(a.key, b.key));
    return { entries: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
  }

  async findByService(serviceSegments: readonly string[]): Promise<ConfigEntry[]> {
    this.calls.findByService++;
    return [...this.entries.values()]
      .filter((e) => serviceSegments.includes(e.namespace.split('.')[1] ?? ''))
      .sort((a, b) => compare(a.namespace, b.namespace) || compare(a.key, b.key));
  }

  async insert(entry: ConfigEntry, change: PendingConfigChange): Promise<WriteResult> {
    await this.runHook('beforeNextWrite');
    const id = configCacheKey(entry.namespace, entry.key);
    if (this.entries.has(id)) return { outcome: 'conflict' };
    this.entries.set(id, entry);
    return this.commit(change);
  }

  async update(
    next: ConfigEntry,
    expectedVersion: number,
    change: PendingConfigChange,
  ): Promise<WriteResult> {
    await this.runHook('beforeNextWrite');
    const id = configCacheKey(next.namespace, next.key);
    const row = this.entries.get(id);
    if (row?.id !== next.id || row.version !== expectedVersion) return { outcome: 'conflict' };
    this.entries.set(id, next);
    return this.commit(change);
  }

  async remove(current: ConfigEntry, change: PendingConfigChange): Promise<WriteResult> {
    await this.runHook('beforeNextWrite');
    const id = configCacheKey(current.namespace, current.key);
    const row = this.entries.get(id);
    if (row?.id !== current.id || row.version !== current.version) return { outcome: 'conflict' };
    this.entries.delete(id);
    return this.commit(change);
  }

  async history(namespace: string, key: string, window: PageWindow): Promise<ChangeHistory> {
    const all = this.changes.filter((c) => c.namespace === namespace && c.key === key).reverse();
    return { changes: all.slice(window.offset, window.offset + window.limit), total: all.length };
  }

  async findVersion(configEntryId: string, version: number): Promise<ConfigChange | undefined> {
    return this.changes.find((c) => c.configEntryId === configEntryId && c.newVersion === version);
  }

  async changesAfter(
    afterRevision: bigint,
    namespaces: readonly string[],
    limit: number,
  ): Promise<ConfigChange[]> {
    this.calls.changesAfter++;
    await this.runHook('beforeNextChangesAfter');
    const page = this.changes
      .filter(
        (c) => c.revision > afterRevision && (namespaces.length === 0 || namespaces.includes(c.namespace)),
      )
      .slice(0, limit);
    await this.runHook('afterNextChangesAfter');
    return page;
  }

  async oldestRetainedRevision(): Promise<bigint> {
    return this.retainedFrom;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Retention: drops changes below `revision`. */
  prune(revision: bigint): void {
    this.retainedFrom = revision;
    for (let i = this.changes.length - 1; i >= 0; i--) {
      if ((this.changes[i] as ConfigChange).revision < revision) this.changes.splice(i, 1);
    }
  }

  /** A feed delivering a change again (e.g. after a reconnect). */
  redeliver(change: ConfigChange): void {
    for (const listener of [...this.listeners]) listener.onChange(change);
  }

  /** The feed broke (e.g. LISTEN connection lost). */
  breakFeed(error: unknown): void {
    for (const listener of [...this.listeners]) listener.onError(error);
  }

  /** Skips revision numbers, as a Postgres sequence does after rolled-back transactions. */
  skipRevisions(count: bigint): void {
    this.nextRevision += count;
  }

  private commit(pending: PendingConfigChange): WriteResult {
    const change: ConfigChange = { ...pending, revision: this.nextRevision++ };
    this.changes.push(change);
    for (const listener of [...this.listeners]) listener.onChange(change);
    return { outcome: 'committed', change };
  }

  private async runHook(name: 'beforeNextWrite' | 'beforeNextChangesAfter' | 'afterNextChangesAfter') {
    const hook = this[name];
    this[name] = undefined;
    await hook?.();
  }
}

/** Map-backed ConfigCache that counts hits and lets a test invalidate at a chosen moment. */
export class MapConfigCache implements ConfigCache {
  readonly entries = new Map<string, ConfigEntry>();
  readonly services = new Map<string, readonly ConfigEntry[]>();
  private generationCounter = 0;
  hits = 0;

  getEntry(namespace: string, key: string): ConfigEntry | undefined {
    const entry = this.entries.get(configCacheKey(namespace, key));
    if (entry !== undefined) this.hits++;
    return entry;
  }
  setEntry(entry: ConfigEntry): void {
    this.entries.set(configCacheKey(entry.namespace, entry.key), entry);
  }
  invalidateEntry(namespace: string, key: string): void {
    this.entries.delete(configCacheKey(namespace, key));
    this.generationCounter++;
  }
  getServiceEntries(serviceName: string): readonly ConfigEntry[] | undefined {
    const entries = this.services.get(serviceName);
    if (entries !== undefined) this.hits++;
    return entries;
  }
  setServiceEntries(serviceName: string, entries: readonly ConfigEntry[]): void {
    this.services.set(serviceName, entries);
  }
  invalidateServiceEntries(serviceName: string): void {
    this.services.delete(serviceName);
    this.generationCounter++;
  }
  generation(): number {
    return this.generationCounter;
  }
}

/** Each reading is one second after the previous, so timestamps tell writes apart. */
export class SteppingClock implements Clock {
  private current = Date.parse('2026-02-17T10:30:00Z');
  now(): Date {
    const now = new Date(this.current);
    this.current += 1000;
    return now;
  }
}

export class SequentialIds implements IdGenerator {
  private next = 1;
  newId(): string {
    return `id-${this.next++}`;
  }
}

export interface TestContext {
  readonly store: InMemoryConfigStore;
  readonly cache: MapConfigCache;
  readonly useCases: ConfigUseCases;
  readonly deps: ConfigUseCaseDeps;
}

/** Every use case over one set of ports, called as the domain defines them (`execute`). */
export function createConfigUseCases(deps: ConfigUseCaseDeps) {
  return {
    getConfig: new GetConfig(deps),
    listConfigs: new ListConfigs(deps),
    updateConfig: new UpdateConfig(deps),
    deleteConfig: new DeleteConfig(deps),
    getServiceConfig: new GetServiceConfig(deps),
    getConfigHistory: new GetConfigHistory(deps),
    rollbackConfig: new RollbackConfig(deps),
    watchConfig: new WatchConfig({ ...deps, options: deps.watch }),
  };
}

export type ConfigUseCases = ReturnType<typeof createConfigUseCases>;

export function setup(overrides: Partial<ConfigUseCaseDeps> = {}): TestContext {
  const store = new InMemoryConfigStore();
  const cache = new MapConfigCache();
  const deps: ConfigUseCaseDeps = {
    repository: store,
    writer: store,
    changeLog: store,
    feed: store,
    cache,
    clock: new SteppingClock(),
    ids: new SequentialIds(),
    rules: configRules(),
    appEnv: 'dev',
    ...overrides,
  };
  return { store, cache, deps, useCases: createConfigUseCases(deps) };
}

export const NS = 'system.auth.database';
export const ADMIN = 'admin@example.com';
export const OPERATOR = 'operator@example.com';

/** Creates (version 0) or updates (current version) a key through the use case. */
export async function put(ctx: TestContext, namespace: string, key: string, value: unknown, actor = ADMIN) {
  const current = await ctx.store.find(namespace, key);
  return ctx.useCases.updateConfig.execute({ namespace, key, value, version: current?.version ?? 0, actor });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
