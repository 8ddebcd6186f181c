import { randomUUID } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { AuditTrail } from '../audit/audit-trail.js';
import { unauthenticated } from '../auth/auth-errors.js';
import type { ApiKeyAuthenticator } from '../auth/caller-gate.js';
import type { Principal } from '../auth/principal.js';
import type { Role } from '../auth/roles.js';
import { type Database, isUniqueViolation, toAppError, withTransaction } from '../db/index.js';
import { errors } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import { issueApiKey, parseApiKey, secretMatches } from './api-key-secret.js';
import type { ApiKeysTable } from './api-keys-table.js';

/** A key as listed (no secret, no hash). */
export interface ApiKeyView {
  id: string;
  name: string;
  roles: string[];
  scopes: string[] | null;
  expiresAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface CreateApiKeyInput {
  name: string;
  roles: readonly Role[];
  scopes?: readonly string[] | undefined;
  expiresAt?: Date | undefined;
}

export interface ApiKeysOptions {
  database: Database;
  table: ApiKeysTable;
  audit: AuditTrail;
  logger: Logger;
  /** LISTEN/NOTIFY channel announcing revocations (payload: the key id); one per service. */
  channel: string;
  /** The service's validation error code (`VALIDATION_FAILED` / `VALIDATION_ERROR`). */
  validationCode: string;
  /** Longest a verified key is trusted without reading its row again (backstop to the NOTIFY). */
  cacheTtlMs?: number | undefined;
  cacheSize?: number | undefined;
  /** last_used_at is written at most this often per instance, for every key used, in one UPDATE. */
  lastUsedFlushMs?: number | undefined;
  /** How long a revocation waits to hear its own NOTIFY before answering (see `revoke`). */
  revocationEchoMs?: number | undefined;
  now?: (() => number) | undefined;
}

type KeyRow = ApiKeysTable['$inferSelect'];
interface Cached {
  row: KeyRow;
  loadedAt: number;
}

const DEFAULT_CACHE_TTL_MS = 30_000;
const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_LAST_USED_FLUSH_MS = 10_000;
const DEFAULT_REVOCATION_ECHO_MS = 2_000;

function viewOf(row: KeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    roles: row.roles,
    scopes: row.scopes,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
  };
}

/**
 * A service's API keys (SPEC §8): create / list / revoke, and verification of
 * `Authorization: ApiKey <key>` for the CallerGate (REST and gRPC alike).
 *
 * Verification reads the key's row once (by primary key) and keeps it in memory for at most
 * `cacheTtlMs`; only the HMAC of the presented secret is computed per request. A revocation
 * commits a NOTIFY on `channel` in the same transaction; every instance LISTENs and drops the
 * key from its cache on it (and clears the whole cache when its LISTEN connection is re-made, as
 * notifications may have been missed meanwhile); the TTL bounds what a lost notification costs.
 */
export class ApiKeys implements ApiKeyAuthenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<KeyRow | undefined>>();
  private readonly usedSince = new Map<string, Date>();
  private readonly echoWaiters = new Map<string, Set<() => void>>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly cacheSize: number;
  private flushTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private flushingLastUsed: Promise<void> | undefined;
  /** Bumped by every revocation notice, so a row loaded across one is not cached. */
  private generation = 0;

  constructor(private readonly options: ApiKeysOptions) {
    this.now = options.now ?? (() => Date.now());
    this.ttlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  }

  async start(): Promise<void> {
    const { unlisten } = await this.options.database.sql.listen(
      this.options.channel,
      (id) => {
        this.generation++;
        this.cache.delete(id);
        const waiters = this.echoWaiters.get(id);
        if (waiters !== undefined) for (const resolve of waiters) resolve();
      },
      // Also runs after a reconnect: whatever was revoked meanwhile is unknown, so forget all.
      () => {
        this.generation++;
        this.cache.clear();
      },
    );
    this.unlisten = unlisten;
    const flushMs = this.options.lastUsedFlushMs ?? DEFAULT_LAST_USED_FLUSH_MS;
    this.flushTimer = setInterval(() => void this.flushLastUsed(), flushMs);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushLastUsed();
    await this.unlisten?.().catch(() => {});
  }

  async create(input: CreateApiKeyInput, actor: string): Promise<ApiKeyView & { key: string }> {
    if (input.expiresAt !== undefined && input.expiresAt.getTime() <= this.now()) {
      throw errors.validation(this.options.validationCode, 'expires_at must be in the future', [
        { field: 'expires_at', message: 'must be in the future' },
      ]);
    }
    const id = randomUUID();
    const issued = issueApiKey(id);
    const roles = [...new Set(input.roles)];
    try {
      const row = await withTransaction(this.options.database, async (tx) => {
        const [inserted] = await tx
          .insert(this.options.table)
          .values({
            id,
            name: input.name,
            roles,
            scopes: input.scopes === undefined ? null : [...new Set(input.scopes)],
            secretHash: issued.secretHash,
            salt: issued.salt,
            createdBy: actor,
            expiresAt: input.expiresAt ?? null,
          })
          .returning();
        if (inserted === undefined) throw errors.internal(new Error('insert returned no row'));
        await this.options.audit.record(
          {
            action: 'apikey.created',
            actor,
            target: id,
            outcome: 'success',
            details: {
              name: input.name,
              roles,
              scopes: inserted.scopes,
              expires_at: inserted.expiresAt?.toISOString() ?? null,
            },
          },
          tx,
        );
        return inserted;
      });
      return { ...viewOf(row), key: issued.key };
    } catch (error) {
      if (isUniqueViolation(error, 'uq_api_keys_name')) {
        throw errors.alreadyExists('APIKEY_ALREADY_EXISTS', `an api key named ${input.name} exists`, [
          { field: 'name', message: 'already used by another key (names are never reused)' },
        ]);
      }
      throw error;
    }
  }

  /** Keys not revoked, oldest first; this instance's pending last-used times are written first. */
  async list(): Promise<ApiKeyView[]> {
    await this.flushLastUsed();
    const t = this.options.table;
    const rows = await this.options.database.db
      .select()
      .from(t)
      .where(isNull(t.revokedAt))
      .orderBy(asc(t.createdAt), asc(t.id));
    return rows.map(viewOf);
  }

  /**
   * Revokes on every instance: the row, its audit record and the NOTIFY commit together; the
   * answer waits (bounded) until this instance's own LISTEN hears that NOTIFY, so this instance
   * refuses the key from its next request on. Other instances refuse it once their LISTEN hears
   * the same NOTIFY (milliseconds; under load possibly after this answer), at the latest after
   * `cacheTtlMs` if a notification is lost. Revoking a revoked key is a no-op;
   * an unknown id is 404.
   */
  async revoke(id: string, actor: string): Promise<void> {
    const t = this.options.table;
    const heard = this.awaitEcho(id);
    try {
      const outcome = await withTransaction(this.options.database, async (tx) => {
        const [revoked] = await tx
          .update(t)
          .set({ revokedAt: sql`now()`, revokedBy: actor })
          .where(and(eq(t.id, id), isNull(t.revokedAt)))
          .returning({ id: t.id, name: t.name });
        if (revoked === undefined) {
          const [existing] = await tx.select({ id: t.id }).from(t).where(eq(t.id, id));
          return existing === undefined ? 'unknown' : 'already revoked';
        }
        await this.options.audit.record(
          {
            action: 'apikey.revoked',
            actor,
            target: id,
            outcome: 'success',
            details: { name: revoked.name },
          },
          tx,
        );
        await tx.execute(sql`select pg_notify(${this.options.channel}, ${id})`);
        return 'revoked';
      });
      this.cache.delete(id);
      if (outcome === 'unknown') {
        throw errors.notFound('APIKEY_NOT_FOUND', `api key ${id} not found`);
      }
      if (outcome === 'revoked') await heard.promise;
    } finally {
      heard.cancel();
    }
  }

  async verify(key: string): Promise<Principal> {
    const parsed = parseApiKey(key);
    if (parsed === undefined) throw unauthenticated('malformed api key');
    const row = await this.row(parsed.id);
    // Same answer for an unknown id and a wrong secret: the id alone proves nothing.
    if (row === undefined || !secretMatches(parsed.secret, row)) throw unauthenticated('unknown api key');
    const actor = `apikey:${row.name}`;
    if (row.revokedAt !== null) throw unauthenticated('api key revoked', undefined, actor);
    if (row.expiresAt !== null && row.expiresAt.getTime() <= this.now()) {
      throw unauthenticated('api key expired', undefined, actor);
    }
    this.usedSince.set(row.id, new Date(this.now()));
    return {
      subject: actor,
      actor,
      roles: new Set(row.roles),
      ...(row.scopes === null ? {} : { scopes: row.scopes }),
      claims: {},
    };
  }

  /** Writes the last-use times gathered since the previous flush in one UPDATE. */
  async flushLastUsed(): Promise<void> {
    while (this.flushingLastUsed !== undefined) await this.flushingLastUsed;
    if (this.usedSince.size === 0) return;
    // As PostgreSQL array literals: drizzle expands a JS array parameter into a list. UUIDs and
    // ISO timestamps hold no character that needs quoting in one.
    const ids = `{${[...this.usedSince.keys()].join(',')}}`;
    const times = `{${[...this.usedSince.values()].map((time) => time.toISOString()).join(',')}}`;
    this.usedSince.clear();
    const t = this.options.table;
    this.flushingLastUsed = this.options.database.db
      .execute(
        sql`update ${t} set last_used_at = greatest(coalesce(${sql.identifier('last_used_at')}, used.at), used.at)
            from (select unnest(${ids}::uuid[]) as id, unnest(${times}::timestamptz[]) as at) as used
            where ${t}.${sql.identifier('id')} = used.id`,
      )
      .then(
        () => {},
        (error: unknown) => this.options.logger.warn({ err: error }, 'api key last_used_at not written'),
      )
      .finally(() => {
        this.flushingLastUsed = undefined;
      });
    await this.flushingLastUsed;
  }

  private async row(id: string): Promise<KeyRow | undefined> {
    const cached = this.cache.get(id);
    if (cached !== undefined && this.now() - cached.loadedAt < this.ttlMs) return cached.row;
    let pending = this.loading.get(id);
    if (pending === undefined) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(id: string): Promise<KeyRow | undefined> {
    const loadedAt = this.now();
    const generation = this.generation;
    const t = this.options.table;
    let row: KeyRow | undefined;
    try {
      [row] = await this.options.database.db.select().from(t).where(eq(t.id, id));
    } catch (error) {
      throw toAppError(error);
    }
    // Unknown ids are not remembered: a flood of made-up ids must not evict real keys. A row read
    // while a revocation notice arrived may predate it: used for this request, not remembered.
    if (row !== undefined && generation === this.generation) {
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(id, { row, loadedAt });
    }
    return row;
  }

  private awaitEcho(id: string): { promise: Promise<void>; cancel(): void } {
    let waiters = this.echoWaiters.get(id);
    if (waiters === undefined) {
      waiters = new Set();
      this.echoWaiters.set(id, waiters);
    }
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    const timer = setTimeout(resolve, this.options.revocationEchoMs ?? DEFAULT_REVOCATION_ECHO_MS);
    timer.unref();
    const set = waiters;
    set.add(resolve);
    return {
      promise,
      cancel: () => {
        clearTimeout(timer);
        set.delete(resolve);
        if (set.size === 0) this.echoWaiters.delete(id);
      },
    };
  }
}
