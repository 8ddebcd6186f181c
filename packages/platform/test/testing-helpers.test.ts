import { createDecoder } from 'fast-jwt';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, DEV_DEFAULT_SECRET } from '../src/auth/index.js';
import { tokenFor, waitFor } from '../src/testing/index.js';

describe('tokenFor', () => {
  const verifier = createTokenVerifier({ devSecret: DEV_DEFAULT_SECRET, appEnv: 'dev' });

  it('signs a dev token the services accept, with the role, the email as actor, and an exp', async () => {
    const token = tokenFor('sys_operator', 'op@example.com');
    const principal = await verifier.verify(token);
    expect([...principal.roles]).toEqual(['sys_operator']);
    expect(principal.actor).toBe('op@example.com');
    const claims = createDecoder()(token) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(3_600);
  });

  it("'none' is a valid token without system roles", async () => {
    const principal = await verifier.verify(tokenFor('none'));
    expect([...principal.roles]).toEqual([]);
    expect(principal.actor).toBe('none@example.com');
  });
});

describe('waitFor', () => {
  it('resolves once the check holds', async () => {
    let calls = 0;
    await waitFor('the third call', () => ++calls === 3);
    expect(calls).toBe(3);
  });

  it('rejects after the timeout, naming what it waited for', async () => {
    await expect(waitFor('a condition that never holds', () => false, 50)).rejects.toThrow(
      'timed out after 50 ms waiting for a condition that never holds',
    );
  });
});
