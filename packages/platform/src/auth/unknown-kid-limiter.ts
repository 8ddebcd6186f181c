export interface UnknownKidLimiterOptions {
  /** After a kid was not found in the JWKS, do not look it up again for this long. */
  cooldownMs: number;
  /** At most this many distinct unknown kids are looked up per cooldown window (guards the IdP against random-kid floods). */
  maxMissesPerWindow: number;
  now: () => number;
}

/**
 * Decides whether a token's unseen `kid` may trigger a JWKS refetch. Refetching on an unknown kid is
 * what makes key rotation work; limiting it keeps forged tokens from turning into IdP traffic.
 */
export class UnknownKidLimiter {
  // kid -> time of its last miss; insertion order is time order, so expiry scans from the front.
  private readonly misses = new Map<string, number>();

  constructor(private readonly options: UnknownKidLimiterOptions) {}

  mayLookUp(kid: string): boolean {
    this.forgetExpired();
    if (this.misses.has(kid)) return false;
    return this.misses.size < this.options.maxMissesPerWindow;
  }

  recordMiss(kid: string): void {
    this.misses.delete(kid);
    this.misses.set(kid, this.options.now());
  }

  private forgetExpired(): void {
    const oldestKept = this.options.now() - this.options.cooldownMs;
    for (const [kid, at] of this.misses) {
      if (at > oldestKept) break;
      this.misses.delete(kid);
    }
  }
}
