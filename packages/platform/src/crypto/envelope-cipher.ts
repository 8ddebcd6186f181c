import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './key-ring.js';

/**
 * Envelope encryption with AES-256-GCM. Each sealed text is
 *
 *   k1s0e1.<kek id>.<wrapped data key>.<ciphertext>        (base64url parts)
 *
 * where the data key is 32 fresh random bytes per sealed value, wrapped (AES-256-GCM) by the key
 * ring's primary key-encryption key; each GCM part is iv(12) | ciphertext | tag(16). The value is
 * encrypted under the data key with `context` as additional authenticated data, so a sealed value
 * copied to another row (another context) fails to open instead of answering someone else's secret.
 * Rotation re-wraps only the data key: `rewrap` never needs the plaintext.
 */
const VERSION = 'k1s0e1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

export class SecretKeyMissingError extends Error {
  override readonly name = 'SecretKeyMissingError';
  constructor(readonly keyId: string) {
    super(
      `key-encryption key "${keyId}" is not in the key ring (CONFIG_KEYRING); add it back to read secrets sealed with it`,
    );
  }
}

export class SealedValueError extends Error {
  override readonly name = 'SealedValueError';
}

/** What stores need to protect values at rest; implemented by EnvelopeCipher. */
export interface SecretCipher {
  /** Id of the key-encryption key new values are wrapped with. */
  readonly primaryKeyId: string;
  seal(plaintext: string, context: string): string;
  /** Throws SecretKeyMissingError (naming the key id) or SealedValueError (tampered / wrong context). */
  open(sealed: string, context: string): string;
  /** The same value with its data key wrapped by the primary key; `undefined` when it already is. */
  rewrap(sealed: string): string | undefined;
  /** The ring holds the key-encryption key with this id. */
  hasKey(keyId: string): boolean;
}

function gcmEncrypt(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function gcmDecrypt(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new SealedValueError('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new SealedValueError(
      'sealed value failed authentication (tampered, or opened in the wrong context)',
    );
  }
}

interface Envelope {
  keyId: string;
  wrappedKey: Buffer;
  body: Buffer;
}

function parse(sealed: string): Envelope {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SealedValueError('not a sealed value');
  const [, keyId, wrappedKey, body] = parts as [string, string, string, string];
  return { keyId, wrappedKey: Buffer.from(wrappedKey, 'base64url'), body: Buffer.from(body, 'base64url') };
}

function format(envelope: Envelope): string {
  return [
    VERSION,
    envelope.keyId,
    envelope.wrappedKey.toString('base64url'),
    envelope.body.toString('base64url'),
  ].join('.');
}

export class EnvelopeCipher implements SecretCipher {
  constructor(private readonly ring: KeyRing) {}

  get primaryKeyId(): string {
    return this.ring.primary.id;
  }

  hasKey(keyId: string): boolean {
    return this.ring.keys.has(keyId);
  }

  seal(plaintext: string, context: string): string {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    const { primary } = this.ring;
    return format({
      keyId: primary.id,
      wrappedKey: gcmEncrypt(primary.key, dataKey, wrapContext(primary.id)),
      body: gcmEncrypt(dataKey, Buffer.from(plaintext, 'utf8'), context),
    });
  }

  open(sealed: string, context: string): string {
    const envelope = parse(sealed);
    return gcmDecrypt(this.unwrap(envelope), envelope.body, context).toString('utf8');
  }

  rewrap(sealed: string): string | undefined {
    const envelope = parse(sealed);
    const { primary } = this.ring;
    if (envelope.keyId === primary.id) return undefined;
    const dataKey = this.unwrap(envelope);
    return format({
      keyId: primary.id,
      wrappedKey: gcmEncrypt(primary.key, dataKey, wrapContext(primary.id)),
      body: envelope.body,
    });
  }

  private unwrap(envelope: Envelope): Buffer {
    const kek = this.ring.keys.get(envelope.keyId);
    if (kek === undefined) throw new SecretKeyMissingError(envelope.keyId);
    return gcmDecrypt(kek.key, envelope.wrappedKey, wrapContext(envelope.keyId));
  }
}

/** A wrapped data key is bound to the id of the key that wrapped it. */
const wrapContext = (keyId: string) => `${VERSION}.kek.${keyId}`;
