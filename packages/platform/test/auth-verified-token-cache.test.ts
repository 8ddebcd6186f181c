import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from '../src/auth/verified-token-cache.js';

function cacheAt(clock: { t: number }, maxEntries = 3, ttlMs = 1_000) {
  return new VerifiedTokenCache<string>({ maxEntries, ttlMs, now: () => clock.t });
}

describe('VerifiedTokenCache', () => {
  it('serves an entry until the earlier of the token expiry and the TTL', () => {
    const clock = { t: 10_000 };
    const cache = cacheAt(clock);
    cache.set('short', 'a', 10_500); // token expires before the TTL
    cache.set('long', 'b', 99_000); // TTL (11_000) comes first
    clock.t = 10_499;
    expect(cache.get('short')).toBe('a');
    clock.t = 10_500;
    expect(cache.get('short')).toBeUndefined();
    clock.t = 10_999;
    expect(cache.get('long')).toBe('b');
    clock.t = 11_000;
    expect(cache.get('long')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never stores a token that is already expired', () => {
    const clock = { t: 5_000 };
    const cache = cacheAt(clock);
    cache.set('expired', 'x', 5_000);
    expect(cache.get('expired')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded, dropping the least recently used token first', () => {
    const clock = { t: 0 };
    const cache = cacheAt(clock, 2);
    cache.set('a', 'A', 500);
    cache.set('b', 'B', 500);
    expect(cache.get('a')).toBe('A'); // a is now more recent than b
    cache.set('c', 'C', 500);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.get('c')).toBe('C');
  });
});
