export interface VerifiedTokenCacheOptions {
  /** Most tokens remembered; the least recently used is dropped first. */
  maxEntries: number;
  /** Longest a verification is reused, whatever the token's own lifetime. */
  ttlMs: number;
  now?: () => number;
}

interface Entry<T> {
  value: T;
  /** Epoch ms after which the entry is dead: min(token expiry incl. tolerance, stored + ttl). */
  expiresAt: number;
}

/**
 * Remembers what verifying a token string produced, so a client that sends the same token on every
 * request pays the signature check once per TTL. Only successes are stored (a rejected token is
 * re-checked every time), keyed by the exact token string, and an entry never outlives the token's
 * `exp`: once expired, the token goes back through full verification and is rejected there.
 */
export class VerifiedTokenCache<T> {
  // A Map iterates in insertion order: re-inserting on hit makes the first key the least recently used.
  private readonly entries = new Map<string, Entry<T>>();
  /** The last key inserted (the Map's last): where a hit would move its entry anyway. */
  private newest: string | undefined;
  private readonly now: () => number;

  constructor(private readonly options: VerifiedTokenCacheOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  get(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.entries.delete(token);
      return undefined;
    }
    // Already the most recently used (a client sending its one token on every request) needs no
    // re-insert: delete-and-set on each hit kept rebuilding the Map's table (GC under load).
    if (token !== this.newest) {
      this.entries.delete(token);
      this.entries.set(token, entry);
      this.newest = token;
    }
    return entry.value;
  }

  /** `validUntilMs`: when the token stops verifying (its exp plus clock tolerance). */
  set(token: string, value: T, validUntilMs: number): void {
    const expiresAt = Math.min(validUntilMs, this.now() + this.options.ttlMs);
    if (!(expiresAt > this.now())) return;
    this.entries.delete(token);
    this.entries.set(token, { value, expiresAt });
    this.newest = token;
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
