import { describe, expect, it } from 'vitest';
import { devTokenClaims } from '../src/auth/dev-token.js';
import { principalFromClaims } from '../src/auth/principal.js';
import { inScope, scopeMatches, scopePatternProblem } from '../src/scopes/index.js';

describe('scopeMatches (SPEC §8 patterns)', () => {
  const table: Array<[pattern: string, name: string, matches: boolean]> = [
    // exact
    ['system.auth.database', 'system.auth.database', true],
    ['system.auth.database', 'system.auth.database.replica', false],
    ['system.auth.database', 'system.auth', false],
    ['system.auth.database', 'system.auth.databases', false],
    // prefix: everything below, not the prefix itself, not a longer sibling
    ['service.payment.*', 'service.payment.db', true],
    ['service.payment.*', 'service.payment.db.replica', true],
    ['service.payment.*', 'service.payment', false],
    ['service.payment.*', 'service.payment.', false],
    ['service.payment.*', 'service.payments.db', false],
    ['service.payment.*', 'service.paymentdb', false],
    ['service.payment.*', 'service.order.db', false],
    // stream ids, same form
    ['order.*', 'order.42', true],
    ['order.*', 'order.eu.42', true],
    ['order.*', 'order', false],
    ['order.*', 'order-42', false],
    ['order-42', 'order-42', true],
    ['order-42', 'order-420', false],
    // `*` is special only as the final segment after a dot
    ['order-*', 'order-42', false],
    ['order-*', 'order-*', true],
    ['*', 'order-42', false],
    ['service.*.db', 'service.payment.db', false],
    ['', 'order-42', false],
  ];
  it.each(table)('%s vs %s → %s', (pattern, name, matches) => {
    expect(scopeMatches(pattern, name)).toBe(matches);
  });
});

describe('inScope', () => {
  it('lets an unscoped caller (undefined) reach everything', () => {
    expect(inScope(undefined, 'system.auth.database')).toBe(true);
  });

  it('lets a caller with no scopes ([]) reach nothing', () => {
    expect(inScope([], 'system.auth.database')).toBe(false);
  });

  it('allows a name matched by any one of several patterns', () => {
    const scopes = ['system.auth.database', 'service.payment.*'];
    expect(inScope(scopes, 'system.auth.database')).toBe(true);
    expect(inScope(scopes, 'service.payment.db')).toBe(true);
    expect(inScope(scopes, 'service.order.db')).toBe(false);
    expect(inScope(scopes, 'service.payment')).toBe(false);
  });

  it('reads the scopes a dev token carries in k1s0_namespaces', () => {
    const principal = principalFromClaims(devTokenClaims({ email: 'a@example.com', scopes: ['order.*'] }));
    expect(principal.scopes).toEqual(['order.*']);
    expect(principalFromClaims(devTokenClaims({ email: 'a@example.com' })).scopes).toBeUndefined();
  });
});

describe('scopePatternProblem (what a key may be granted)', () => {
  it.each(['system.auth.database', 'service.payment.*', 'order-42', 'order.*', 'tenant:acme@eu.*'])(
    'accepts %s',
    (pattern) => {
      expect(scopePatternProblem(pattern)).toBeUndefined();
    },
  );

  it.each([
    '',
    '*',
    '.*',
    'service.*.db',
    'service.payment*',
    'order-*',
    'service.payment.',
    'service.payment..*',
    'has space',
    'x'.repeat(256),
  ])('refuses %j', (pattern) => {
    expect(scopePatternProblem(pattern)).toEqual(expect.any(String));
  });
});
