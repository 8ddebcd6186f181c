import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Presented keys look like `k1s0_<id as 32 hex digits>_<43 base64url characters>`: the prefix makes
 * a leaked key recognisable to secret scanners, the id makes verification one primary-key read,
 * and the secret is 32 random bytes.
 *
 * Stored: HMAC-SHA256 keyed by a random per-key salt. No slow KDF (scrypt, argon2): those protect
 * low-entropy passwords from guessing; a 256-bit random secret cannot be guessed, so a fast MAC is
 * as safe and keeps verification off the request's critical path. The salt makes equal secrets
 * hash differently and defeats precomputation. Comparison is constant-time.
 */
const PREFIX = 'k1s0';
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const KEY_FORMAT = /^k1s0_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  /** What the caller presents; returned once, never stored. */
  key: string;
  secretHash: string;
  salt: string;
}

export function issueApiKey(id: string): IssuedApiKey {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const salt = randomBytes(SALT_BYTES).toString('hex');
  return { key: `${PREFIX}_${id.replaceAll('-', '')}_${secret}`, secretHash: hmac(salt, secret), salt };
}

/** The key's id (UUID form) and secret, or undefined if it is not a key of ours. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_FORMAT.exec(key);
  if (!match?.[1] || !match[2]) return undefined;
  const hex = match[1];
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2] };
}

export function secretMatches(secret: string, stored: { secretHash: string; salt: string }): boolean {
  const expected = Buffer.from(stored.secretHash, 'hex');
  const actual = Buffer.from(hmac(stored.salt, secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function hmac(salt: string, secret: string): string {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(secret).digest('hex');
}
