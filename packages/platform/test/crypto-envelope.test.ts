import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  developmentKeyRing,
  EnvelopeCipher,
  KeyRingError,
  parseKeyRing,
  readKeyRingFile,
  SealedValueError,
  SecretKeyMissingError,
} from '../src/crypto/index.js';

/** The key id of a sealed value: its second dot-separated field (`k1s0e1.<keyId>.<wrapped>.<body>`). */
const sealedKeyId = (sealed: string) => sealed.split('.')[1];

const key = () => randomBytes(32).toString('base64');

describe('parseKeyRing', () => {
  it('reads id:base64 lists and JSON; the first key is the primary', () => {
    const [a, b] = [key(), key()];
    const listed = parseKeyRing(`k2:${a}, k1:${b}`);
    expect(listed.primary.id).toBe('k2');
    expect([...listed.keys.keys()]).toEqual(['k2', 'k1']);
    const json = parseKeyRing(
      JSON.stringify([
        { id: 'k2', key: a },
        { id: 'k1', key: b },
      ]),
    );
    expect(json.primary.key.equals(listed.primary.key)).toBe(true);
    expect(parseKeyRing(JSON.stringify({ keys: [{ id: 'k1', key: b }] })).primary.id).toBe('k1');
  });

  it('refuses short keys, bad ids, duplicates and junk, naming the key id but never the key', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => parseKeyRing(`k1:${short}`)).toThrow(/key "k1" must be 32 bytes/);
    expect(() => parseKeyRing(`bad.id:${key()}`)).toThrow(KeyRingError);
    expect(() => parseKeyRing(`k1:${key()},k1:${key()}`)).toThrow(/appears twice/);
    expect(() => parseKeyRing('')).toThrow(/empty/);
    expect(() => parseKeyRing('[{"id": 1}]')).toThrow(KeyRingError);
    try {
      parseKeyRing(`k1:${short}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
  });

  it('reads a ring from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
    const file = join(dir, 'ring');
    writeFileSync(file, `k9:${key()}\n`);
    expect(readKeyRingFile(file).primary.id).toBe('k9');
    expect(() => readKeyRingFile(join(dir, 'absent'))).toThrow(/cannot read key ring file/);
  });
});

describe('EnvelopeCipher', () => {
  const k1 = key();
  const k2 = key();
  const old = new EnvelopeCipher(parseKeyRing(`k1:${k1}`));
  const rotated = new EnvelopeCipher(parseKeyRing(`k2:${k2},k1:${k1}`));

  it('seals with a fresh data key each time and opens in the same context only', () => {
    const a = old.seal('"s3cr3t"', 'ns/key');
    const b = old.seal('"s3cr3t"', 'ns/key');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cr3t');
    expect(sealedKeyId(a)).toBe('k1');
    expect(old.open(a, 'ns/key')).toBe('"s3cr3t"');
    expect(() => old.open(a, 'ns/other')).toThrow(SealedValueError);
    const tampered = `${a.slice(0, -4)}${a.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(() => old.open(tampered, 'ns/key')).toThrow(SealedValueError);
    expect(() => old.open('plain', 'ns/key')).toThrow(SealedValueError);
  });

  it('rotation: old values stay readable, rewrap moves them to the new primary without the plaintext changing', () => {
    const sealed = old.seal('{"password":"p"}', 'ctx');
    expect(rotated.open(sealed, 'ctx')).toBe('{"password":"p"}');
    const rewrapped = rotated.rewrap(sealed);
    expect(rewrapped).toBeDefined();
    expect(sealedKeyId(rewrapped ?? '')).toBe('k2');
    // Only the wrapped data key changed.
    expect(rewrapped?.split('.')[3]).toBe(sealed.split('.')[3]);
    expect(rotated.rewrap(rewrapped ?? '')).toBeUndefined();
    // Once rewrapped, the old key can leave the ring.
    const onlyNew = new EnvelopeCipher(parseKeyRing(`k2:${k2}`));
    expect(onlyNew.open(rewrapped ?? '', 'ctx')).toBe('{"password":"p"}');
    expect(() => onlyNew.open(sealed, 'ctx')).toThrow(SecretKeyMissingError);
    expect(() => onlyNew.open(sealed, 'ctx')).toThrow(/"k1" is not in the key ring/);
  });

  it('the development ring is fixed across processes', () => {
    const sealed = new EnvelopeCipher(developmentKeyRing()).seal('1', 'c');
    expect(new EnvelopeCipher(developmentKeyRing()).open(sealed, 'c')).toBe('1');
    expect(sealedKeyId(sealed)).toBe('dev');
  });
});
