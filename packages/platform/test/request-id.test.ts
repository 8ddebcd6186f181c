import { describe, expect, it } from 'vitest';
import { requestIdFor } from '../src/http/request-id.js';

describe('requestIdFor', () => {
  it('mints req_ and 16 hex digits, never the same twice across pool refills', () => {
    // 512 ids per 4 KiB draw: 2,000 ids cross three refills.
    const ids = Array.from({ length: 2000 }, () => requestIdFor({ headers: {} }));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Every hex digit is drawn: over 32,000 digits each of the 16 values appears.
    expect(new Set(ids.join('').replaceAll('req_', ''))).toHaveProperty('size', 16);
  });

  it("keeps a caller's sane X-Request-Id and replaces one that is not", () => {
    expect(requestIdFor({ headers: { 'x-request-id': 'abc-123' } })).toBe('abc-123');
    expect(requestIdFor({ headers: { 'x-request-id': 'a b' } })).toMatch(/^req_[0-9a-f]{16}$/);
    expect(requestIdFor({ headers: { 'x-request-id': 'x'.repeat(129) } })).toMatch(/^req_/);
  });
});
