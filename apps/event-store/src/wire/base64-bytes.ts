/**
 * Base64 (RFC 4648, padded) decoded from bytes into bytes: the wire bodies come from the driver as
 * views of its socket buffer (postgres.js `raw()`), and Node decodes base64 only from a string, which
 * would be one more copy and one more object per event read (issue 13: garbage is the largest cost
 * of the event reads).
 */

/** Sextet of each base64 character's code; -1 for anything else. */
const SEXTETS = new Int8Array(256).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

const PAD = 0x3d; // '='

/** Bytes that `base64` (padded, no whitespace) decodes to. */
export function base64DecodedLength(base64: Uint8Array): number {
  const n = base64.length;
  const padding = n > 0 && base64[n - 1] === PAD ? (base64[n - 2] === PAD ? 2 : 1) : 0;
  return (n / 4) * 3 - padding;
}

/** Decodes `base64` into `target` at `at`; returns the bytes written. Throws on a character outside the alphabet. */
export function decodeBase64Into(base64: Uint8Array, target: Uint8Array, at: number): number {
  const n = base64.length;
  if (n % 4 !== 0) throw new Error('base64: length is not a multiple of 4');
  const length = base64DecodedLength(base64);
  let out = at;
  const end = at + length;
  for (let i = 0; i < n; i += 4) {
    const a = SEXTETS[base64[i]!]!;
    const b = SEXTETS[base64[i + 1]!]!;
    const c = base64[i + 2] === PAD ? 0 : SEXTETS[base64[i + 2]!]!;
    const d = base64[i + 3] === PAD ? 0 : SEXTETS[base64[i + 3]!]!;
    if ((a | b | c | d) < 0) throw new Error('base64: character outside the alphabet');
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    target[out++] = bits >>> 16;
    if (out < end) target[out++] = (bits >>> 8) & 0xff;
    if (out < end) target[out++] = bits & 0xff;
  }
  return length;
}
