import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64DecodedLength, decodeBase64Into } from '../src/wire/base64-bytes.js';

describe('base64 decoded from bytes (the wire bodies as read)', () => {
  it("gives Node's decoding for every length and padding, at any offset", () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = randomBytes(length);
      const base64 = Buffer.from(bytes.toString('base64'), 'latin1');
      expect(base64DecodedLength(base64)).toBe(length);
      const target = Buffer.alloc(length + 7, 0xee);
      expect(decodeBase64Into(base64, target, 3)).toBe(length);
      expect(target.subarray(3, 3 + length).equals(bytes)).toBe(true);
      expect(target.subarray(0, 3).equals(Buffer.alloc(3, 0xee))).toBe(true);
      expect(target.subarray(3 + length).equals(Buffer.alloc(4, 0xee))).toBe(true);
    }
  });

  it('refuses text that is not padded base64', () => {
    const target = Buffer.alloc(8);
    expect(() => decodeBase64Into(Buffer.from('abc'), target, 0)).toThrow(/multiple of 4/);
    expect(() => decodeBase64Into(Buffer.from('ab-_'), target, 0)).toThrow(/alphabet/);
  });
});
