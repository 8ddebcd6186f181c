import { describe, expect, it } from 'vitest';
import { compactJsonbText } from '../src/persistence/jsonb-text.js';

const ordinary = (jsonbText: string) => JSON.stringify(JSON.parse(jsonbText));

describe('compactJsonbText (jsonb text → the compact text JSON.stringify writes)', () => {
  // As PostgreSQL prints jsonb: one space after ':' and ',' between tokens.
  const compacted = [
    '{"lines": [{"qty": 2, "sku": "A-1"}], "total": 3000, "currency": "JPY", "order_id": "o-1"}',
    '{}',
    '[]',
    '"just text"',
    'null',
    'true',
    '-7',
    '999999999999999',
    '{"a": "x, y: z", "b": "quote \\" and backslash \\\\", "c": "\\\\"}',
    '{"s": "\\n\\t\\u0001 é 日本 \u2028"}',
    '{"o": {}, "a": [], "deep": [[{}], {"k": [true, false, null]}]}',
    '{"x01": 1, "key with space": " "}',
  ];
  it.each(compacted)('%s', (text) => {
    expect(compactJsonbText(text)).toBe(ordinary(text));
  });

  // What JavaScript would print differently: the caller re-serializes instead.
  const declined = [
    '{"f": 2.50}',
    '{"e": 1.5e-7}',
    '[12345678901234567]',
    '{"10": 1, "b": 2}',
    '{"b": {"2": [1, 2]}}',
  ];
  it.each(declined)('declines %s', (text) => {
    expect(compactJsonbText(text)).toBeUndefined();
  });

  it('declines integer-like keys even where the order would not change, and keeps digits in values', () => {
    expect(compactJsonbText('{"0": 1}')).toBeUndefined();
    expect(compactJsonbText('{"k": "10"}')).toBe('{"k":"10"}');
  });
});
