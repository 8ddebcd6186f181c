import { describe, expect, it } from 'vitest';
import { perObject } from '../src/runtime/per-object.js';

describe('perObject', () => {
  it('computes once per key object, again for another object, and keeps undefined results too', () => {
    let calls = 0;
    const lengthOf = perObject((key: { text: string }) => {
      calls++;
      return key.text.length > 3 ? key.text.length : undefined;
    });
    const a = { text: 'abcd' };
    const b = { text: 'ab' };
    expect([lengthOf(a), lengthOf(a), lengthOf(b), lengthOf(b)]).toEqual([4, 4, undefined, undefined]);
    expect(calls).toBe(2);
    expect(lengthOf({ text: 'abcd' })).toBe(4); // an equal but new object: computed again
    expect(calls).toBe(3);
  });
});
