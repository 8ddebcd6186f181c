import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A key-encryption key: 32 bytes for AES-256, named by an id that travels in every envelope. */
export interface KeyEncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

/** Key-encryption keys; the first (primary) wraps new data keys, every one can unwrap. */
export interface KeyRing {
  readonly primary: KeyEncryptionKey;
  readonly keys: ReadonlyMap<string, KeyEncryptionKey>;
}

export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

/** Ids appear in the envelope between `.` separators, so they are kept to a plain alphabet. */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

const jsonRingSchema = z.union([
  z.array(z.object({ id: z.string(), key: z.string() })).min(1),
  z.object({ keys: z.array(z.object({ id: z.string(), key: z.string() })).min(1) }).transform((r) => r.keys),
]);

function keyOf(id: string, base64: string): KeyEncryptionKey {
  if (!KEY_ID.test(id)) throw new KeyRingError(`key id "${id}" must be 1-64 characters of [A-Za-z0-9_-]`);
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) {
    throw new KeyRingError(`key "${id}" must be 32 bytes (AES-256), base64-encoded; got ${key.length} bytes`);
  }
  return { id, key };
}

/**
 * Parses a key ring: JSON `[{"id","key"}, …]` (or `{"keys": [...]}`), or `id:base64key,id:base64key`.
 * Keys are base64 of 32 random bytes (`openssl rand -base64 32`). The first key is the primary.
 * Errors name the offending key id, never a key.
 */
export function parseKeyRing(text: string): KeyRing {
  const trimmed = text.trim();
  let pairs: { id: string; key: string }[];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new KeyRingError('key ring is not valid JSON');
    }
    const parsed = jsonRingSchema.safeParse(json);
    if (!parsed.success)
      throw new KeyRingError('key ring JSON must be [{"id": "...", "key": "<base64>"}, ...]');
    pairs = parsed.data;
  } else {
    pairs = trimmed
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => {
        const colon = part.indexOf(':');
        if (colon <= 0) throw new KeyRingError('key ring entries must be id:base64key');
        return { id: part.slice(0, colon), key: part.slice(colon + 1) };
      });
  }
  if (pairs.length === 0) throw new KeyRingError('key ring is empty');
  const keys = new Map<string, KeyEncryptionKey>();
  for (const { id, key } of pairs) {
    if (keys.has(id)) throw new KeyRingError(`key id "${id}" appears twice`);
    keys.set(id, keyOf(id, key));
  }
  return { primary: keys.get(pairs[0]!.id)!, keys };
}

/** The ring from a file holding the same text (e.g. a mounted Kubernetes secret). */
export function readKeyRingFile(path: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyRingError(
      `cannot read key ring file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return parseKeyRing(text);
}

/**
 * The fixed, PUBLIC development key (id `dev`), used only when APP_ENV is dev or test and no key
 * ring is configured — like the development token secret, it protects nothing; it only lets the
 * encryption path run the same way locally as in production.
 */
export function developmentKeyRing(): KeyRing {
  const dev: KeyEncryptionKey = {
    id: 'dev',
    key: createHash('sha256').update('k1s0 development key-encryption key (public, not secret)').digest(),
  };
  return { primary: dev, keys: new Map([[dev.id, dev]]) };
}
