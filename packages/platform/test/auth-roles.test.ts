import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  hasRole,
  type Principal,
  principalFromClaims,
  type RoleRequirement,
  requireRole,
} from '../src/auth/index.js';
import { AppError } from '../src/errors/index.js';

function holding(...roles: string[]): Principal {
  return principalFromClaims({ sub: 'u', realm_access: { roles } });
}

describe('role hierarchy sys_admin ⊃ sys_operator ⊃ sys_auditor', () => {
  const table: Array<[held: string[], required: RoleRequirement, granted: boolean]> = [
    [['sys_admin'], 'sys_admin', true],
    [['sys_admin'], 'sys_operator', true],
    [['sys_admin'], 'sys_auditor', true],
    [['sys_operator'], 'sys_admin', false],
    [['sys_operator'], 'sys_operator', true],
    [['sys_operator'], 'sys_auditor', true],
    [['sys_auditor'], 'sys_admin', false],
    [['sys_auditor'], 'sys_operator', false],
    [['sys_auditor'], 'sys_auditor', true],
    [[], 'sys_auditor', false],
    [[], 'authenticated', true],
    [['offline_access', 'uma_authorization'], 'sys_auditor', false],
    [['sys_auditor', 'sys_admin'], 'sys_operator', true],
  ];

  it.each(table)('holding %j, requiring %s → %s', (held, required, granted) => {
    expect(hasRole(holding(...held), required)).toBe(granted);
    if (granted) {
      expect(() => requireRole(holding(...held), required)).not.toThrow();
    } else {
      expect(() => requireRole(holding(...held), required)).toThrow(
        expect.objectContaining({ kind: 'permission_denied', code: 'PERMISSION_DENIED' }),
      );
    }
  });
});

describe('principalFromClaims', () => {
  it('takes the actor from email, else preferred_username, else sub', () => {
    expect(principalFromClaims({ sub: 's', email: 'e@x', preferred_username: 'p' }).actor).toBe('e@x');
    expect(principalFromClaims({ sub: 's', email: '', preferred_username: 'p' }).actor).toBe('p');
    expect(principalFromClaims({ sub: 's' }).actor).toBe('s');
  });

  it("takes realm roles and this client's roles only, ignoring malformed role claims", () => {
    const claims = {
      sub: 's',
      realm_access: { roles: ['sys_auditor', 42] },
      resource_access: {
        'config-server': { roles: ['sys_operator', null] },
        'unrelated-app': { roles: ['sys_admin'] },
        b: { roles: 'sys_admin' },
        c: null,
      },
    };
    expect(principalFromClaims(claims, 'config-server').roles).toEqual(
      new Set(['sys_auditor', 'sys_operator']),
    );
    // Another client's sys_admin grants nothing; without a client id only realm roles count.
    expect(principalFromClaims(claims, 'b').roles).toEqual(new Set(['sys_auditor']));
    expect(principalFromClaims(claims).roles).toEqual(new Set(['sys_auditor']));
    // Inherited object keys are not clients.
    expect(principalFromClaims(claims, 'toString').roles).toEqual(new Set(['sys_auditor']));
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER  abc-_.def.ghi ', 'abc-_.def.ghi'],
  ])('parses %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    [undefined, 'missing bearer token'],
    ['', 'missing bearer token'],
    ['Basic dXNlcjpwYXNz', 'malformed authorization header'],
    ['Bearer', 'malformed authorization header'],
    ['Bearer a b', 'malformed authorization header'],
    ['abc.def.ghi', 'malformed authorization header'],
  ])('rejects %j as unauthenticated', (header, message) => {
    const attempt = () => bearerToken(header);
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(
      expect.objectContaining({ kind: 'unauthenticated', code: 'UNAUTHORIZED', message }),
    );
  });
});
