import { describe, expect, it } from 'vitest';
import { isStorableText, unstorableTextPath } from '../src/errors/index.js';

describe('storable text (what PostgreSQL text/jsonb accept)', () => {
  it('accepts ordinary text, including paired surrogates (emoji)', () => {
    expect(isStorableText('設定 ok 🎉')).toBe(true);
    expect(unstorableTextPath({ a: ['x', { b: '🎉' }], n: 1, t: true, z: null })).toBeUndefined();
  });

  it('finds U+0000 and unpaired surrogates, in values and keys, with their path', () => {
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('a\ud800b')).toBe(false);
    expect(isStorableText('\udc00')).toBe(false);
    expect(unstorableTextPath('a\u0000')).toBe('');
    expect(unstorableTextPath({ a: [1, { b: 'x\ud83d' }] })).toBe('.a[1].b');
    expect(unstorableTextPath({ ok: 1, nested: { 'k\u0000': 1 } })).toBe('.nested');
  });
});
