import { createHmac } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createTokenVerifier,
  DEV_DEFAULT_SECRET,
  devTokenClaims,
  signDevToken,
  type TokenVerifier,
} from '../src/auth/index.js';
import { AppError } from '../src/errors/index.js';
import { generateSigningKey, type JwksServer, signWith, startJwksServer } from './support/jwks-server.js';

const ISSUER = 'https://keycloak.test/realms/k1s0';
const AUDIENCE = 'k1s0-system';
const rsa = generateSigningKey('RS256', 'rsa-1');
const ec = generateSigningKey('ES256', 'ec-1');
// JWKs may omit `alg` (RFC 7517 §4.4); then only the key type ties the key to an algorithm.
const rsaWithoutAlg = generateSigningKey('RS256', 'rsa-no-alg');
delete rsaWithoutAlg.jwk.alg;

const nowSec = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: 'user-1',
    email: 'alice@example.com',
    preferred_username: 'alice',
    realm_access: { roles: ['sys_auditor', 'offline_access'] },
    resource_access: { 'config-server': { roles: ['sys_operator'] }, account: { roles: ['view-profile'] } },
    iss: ISSUER,
    aud: AUDIENCE,
    iat: nowSec(),
    exp: nowSec() + 300,
    ...overrides,
  };
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Expects verification to fail as SPEC §3 requires: 401 UNAUTHORIZED with the given reason. */
async function expectRejected(
  verifier: TokenVerifier,
  token: string,
  reason: string | RegExp,
): Promise<void> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ kind: 'unauthenticated', code: 'UNAUTHORIZED' });
  expect((error as AppError).message).toMatch(reason);
}

describe('JWKS mode', () => {
  let jwks: JwksServer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    jwks = await startJwksServer([rsa, ec, rsaWithoutAlg]);
    verifier = createTokenVerifier({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, appEnv: 'prod' });
  });
  afterAll(() => jwks.close());

  it('accepts a valid RS256 token and maps the Keycloak claims to a principal', async () => {
    const principal = await verifier.verify(signWith(rsa, claims()));
    expect(verifier.mode).toBe('jwks');
    expect(principal.subject).toBe('user-1');
    expect(principal.actor).toBe('alice@example.com');
    expect([...principal.roles].sort()).toEqual([
      'offline_access',
      'sys_auditor',
      'sys_operator',
      'view-profile',
    ]);
    expect(principal.claims.preferred_username).toBe('alice');
  });

  it('accepts a valid ES256 token, and an aud array containing the audience', async () => {
    const principal = await verifier.verify(signWith(ec, claims({ aud: ['account', AUDIENCE] })));
    expect(principal.actor).toBe('alice@example.com');
  });

  it('caches keys: repeated tokens of a known kid do not refetch the JWKS', async () => {
    const before = jwks.hits;
    await verifier.verify(signWith(rsa, claims()));
    await verifier.verify(signWith(rsa, claims({ sub: 'user-2' })));
    expect(jwks.hits).toBe(before);
  });

  it('rejects expired and not-yet-valid tokens', async () => {
    await expectRejected(verifier, signWith(rsa, claims({ exp: nowSec() - 10 })), 'token expired');
    await expectRejected(verifier, signWith(rsa, claims({ nbf: nowSec() + 600 })), 'token not yet valid');
  });

  it('reuses a verification only until the token expires: once expired it is rejected', async () => {
    const token = signWith(rsa, claims({ exp: nowSec() + 2 }));
    expect((await verifier.verify(token)).subject).toBe('user-1');
    expect((await verifier.verify(token)).actor).toBe('alice@example.com');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 3_000);
      await expectRejected(verifier, token, 'token expired');
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives every concurrent caller of one token the same outcome (one shared check)', async () => {
    const token = signWith(rsa, claims({ sub: 'user-concurrent' }));
    const principals = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(new Set(principals.map((p) => p.subject))).toEqual(new Set(['user-concurrent']));
    const expired = signWith(rsa, claims({ exp: nowSec() - 10, sub: 'user-late' }));
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => verifier.verify(expired)));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    // Nothing of the shared check lingers: the rejected token is checked (and rejected) again.
    await expectRejected(verifier, expired, 'token expired');
  });

  it('honours clockToleranceSec for exp', async () => {
    const tolerant = createTokenVerifier({ jwksUrl: jwks.url, appEnv: 'prod', clockToleranceSec: 60 });
    const principal = await tolerant.verify(signWith(rsa, claims({ exp: nowSec() - 10 })));
    expect(principal.subject).toBe('user-1');
  });

  it('rejects a wrong issuer or audience', async () => {
    await expectRejected(
      verifier,
      signWith(rsa, claims({ iss: 'https://evil.test/realms/k1s0' })),
      'invalid iss claim',
    );
    await expectRejected(verifier, signWith(rsa, claims({ aud: 'other-service' })), 'invalid aud claim');
    await expectRejected(verifier, signWith(rsa, claims({ aud: ['account', 'other'] })), 'invalid aud claim');
  });

  it('does not check iss/aud when none is configured', async () => {
    const lenient = createTokenVerifier({ jwksUrl: jwks.url, appEnv: 'prod' });
    const principal = await lenient.verify(signWith(rsa, claims({ iss: 'anything', aud: 'anyone' })));
    expect(principal.subject).toBe('user-1');
  });

  it('rejects tokens without exp or any user claim, or without iss/aud when those are configured', async () => {
    const { exp: _exp, iss: _iss, aud: _aud, ...noExp } = claims();
    await expectRejected(
      verifier,
      signWith(rsa, { ...noExp, iss: ISSUER, aud: AUDIENCE }),
      'token lacks exp claim',
    );
    await expectRejected(
      verifier,
      signWith(rsa, { ...noExp, exp: nowSec() + 60, aud: AUDIENCE }),
      'token lacks iss claim',
    );
    await expectRejected(
      verifier,
      signWith(rsa, { ...noExp, exp: nowSec() + 60, iss: ISSUER }),
      'token lacks aud claim',
    );
    const { sub: _sub, email: _email, preferred_username: _user, ...noUser } = claims();
    await expectRejected(verifier, signWith(rsa, noUser), 'token names no user');
    // Without sub, the actor is still known (email, else preferred_username).
    const withoutSub = await verifier.verify(signWith(rsa, { ...noUser, preferred_username: 'bob' }));
    expect(withoutSub.actor).toBe('bob');
  });

  it('rejects a forged signature under a known kid', async () => {
    const impostor = generateSigningKey('RS256', rsa.kid);
    await expectRejected(verifier, signWith(impostor, claims()), 'invalid token signature');
  });

  it('rejects alg none', async () => {
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT', kid: rsa.kid })}.${b64url(claims())}.`;
    await expectRejected(verifier, unsigned, /not signed|algorithm not allowed/);
  });

  it('rejects HS256 signed with the RSA public key PEM (algorithm confusion)', async () => {
    const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${b64url(claims())}`;
    const signature = createHmac('sha256', publicPem).update(input).digest('base64url');
    await expectRejected(verifier, `${input}.${signature}`, 'token algorithm not allowed');
  });

  it('rejects a token whose alg does not fit the key type of its kid', async () => {
    expect((await verifier.verify(signWith(rsaWithoutAlg, claims()))).subject).toBe('user-1');
    const pretendingEs = signWith(ec, claims(), { kid: rsaWithoutAlg.kid });
    await expectRejected(verifier, pretendingEs, 'signing key does not match token algorithm');
    // With `alg` published, the JWKS lookup itself finds no ES256 key under an RSA kid.
    await expectRejected(verifier, signWith(ec, claims(), { kid: rsa.kid }), 'unknown signing key');
  });

  it('rejects malformed tokens', async () => {
    await expectRejected(verifier, 'not-a-jwt', 'malformed token');
  });
});

describe('JWKS key rotation and refetch limits', () => {
  let jwks: JwksServer;
  let clock = 0;
  const now = () => clock;

  beforeAll(async () => {
    jwks = await startJwksServer([rsa]);
  });
  afterAll(() => jwks.close());

  it('rejects an unknown kid, refetching at most once per cooldown per kid', async () => {
    const verifier = createTokenVerifier(
      { jwksUrl: jwks.url, appEnv: 'prod' },
      { now, unknownKidCooldownMs: 10_000 },
    );
    const stranger = generateSigningKey('RS256', 'not-published');
    const token = signWith(stranger, claims());

    await expectRejected(verifier, token, 'unknown signing key');
    const afterFirst = jwks.hits;
    clock += 5_000;
    await expectRejected(verifier, token, 'unknown signing key');
    await expectRejected(verifier, token, 'unknown signing key');
    expect(jwks.hits).toBe(afterFirst);

    clock += 5_001;
    await expectRejected(verifier, token, 'unknown signing key');
    expect(jwks.hits).toBe(afterFirst + 1);
  });

  it('accepts a rotated-in key by refetching the JWKS for its new kid', async () => {
    const verifier = createTokenVerifier({ jwksUrl: jwks.url, appEnv: 'prod' }, { now });
    await verifier.verify(signWith(rsa, claims()));
    const rotated = generateSigningKey('ES256', 'ec-rotated');
    const early = signWith(rotated, claims());
    await expectRejected(verifier, early, 'unknown signing key');

    jwks.setKeys([rsa, rotated]);
    // Within the cooldown the kid that just missed is still refused without a fetch...
    const hits = jwks.hits;
    await expectRejected(verifier, early, 'unknown signing key');
    expect(jwks.hits).toBe(hits);
    // ...and once it passes, the new key is fetched and accepted, then served from cache.
    clock += 10_001;
    expect((await verifier.verify(early)).subject).toBe('user-1');
    await verifier.verify(signWith(rotated, claims({ sub: 'user-3' })));
    expect(jwks.hits).toBe(hits + 1);
    // The old key keeps working during the rotation.
    expect((await verifier.verify(signWith(rsa, claims()))).subject).toBe('user-1');
  });

  it('caps distinct unknown kids per window so random kids cannot flood the IdP', async () => {
    const verifier = createTokenVerifier(
      { jwksUrl: jwks.url, appEnv: 'prod' },
      { now, unknownKidCooldownMs: 10_000, maxUnknownKidsPerWindow: 2 },
    );
    await verifier.verify(signWith(rsa, claims()));
    const before = jwks.hits;
    for (const kid of ['random-1', 'random-2', 'random-3', 'random-4']) {
      await expectRejected(verifier, signWith(rsa, claims(), { kid }), 'unknown signing key');
    }
    expect(jwks.hits).toBe(before + 2);
    // Known keys are unaffected by the cap.
    expect((await verifier.verify(signWith(rsa, claims()))).subject).toBe('user-1');
  });
});

describe('dev mode (HS256)', () => {
  const secret = 'test-dev-secret';

  it('accepts HS256 tokens minted with the dev secret', async () => {
    const verifier = createTokenVerifier({ devSecret: secret, appEnv: 'dev' });
    const token = signDevToken(
      devTokenClaims({ roles: ['sys_admin'], email: 'dev@example.com' }),
      secret,
      60,
    );
    const principal = await verifier.verify(token);
    expect(verifier.mode).toBe('dev');
    expect(principal.actor).toBe('dev@example.com');
    expect(principal.roles).toEqual(new Set(['sys_admin']));
  });

  it('rejects another secret, RS256 tokens and expired dev tokens', async () => {
    const verifier = createTokenVerifier({ devSecret: secret, appEnv: 'dev' });
    await expectRejected(
      verifier,
      signDevToken(devTokenClaims({}), 'other-secret'),
      'invalid token signature',
    );
    await expectRejected(verifier, signWith(rsa, claims()), /algorithm not allowed/);
    await expectRejected(verifier, signDevToken(devTokenClaims({}), secret, -10), 'token expired');
  });

  it('accepts a hand-minted dev token without exp or sub (jwt.sign without expiresIn)', async () => {
    const verifier = createTokenVerifier({ devSecret: secret, appEnv: 'dev' });
    const token = createSigner({ key: secret, algorithm: 'HS256' })({
      email: 'tester@example.com',
      realm_access: { roles: ['sys_operator'] },
    });
    const principal = await verifier.verify(token);
    expect(principal.actor).toBe('tester@example.com');
    expect(principal.roles).toEqual(new Set(['sys_operator']));
  });

  it('checks iss/aud in dev mode too when configured', async () => {
    const verifier = createTokenVerifier({
      devSecret: secret,
      appEnv: 'dev',
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    await expectRejected(
      verifier,
      signDevToken(devTokenClaims({ aud: AUDIENCE }), secret),
      'token lacks iss claim',
    );
    const foreign = signDevToken(devTokenClaims({ iss: 'https://other.test', aud: AUDIENCE }), secret);
    await expectRejected(verifier, foreign, 'invalid iss claim');
    const ok = signDevToken(devTokenClaims({ iss: ISSUER, aud: AUDIENCE }), secret);
    expect((await verifier.verify(ok)).subject).toBe('dev-user');
  });

  it('refuses to start with a dev secret in prod, or with nothing configured', () => {
    expect(() => createTokenVerifier({ devSecret: DEV_DEFAULT_SECRET, appEnv: 'prod' })).toThrow(
      /AUTH_DEV_SECRET .*refused when APP_ENV=prod/,
    );
    expect(() => createTokenVerifier({ appEnv: 'dev' })).toThrow(/no token verification configured/);
  });

  it('prefers the JWKS when both are configured, so HS256 is never accepted beside it', async () => {
    const verifier = createTokenVerifier({
      jwksUrl: 'http://127.0.0.1:9/certs',
      devSecret: secret,
      appEnv: 'dev',
    });
    expect(verifier.mode).toBe('jwks');
    await expectRejected(verifier, signDevToken(devTokenClaims({}), secret), 'token algorithm not allowed');
  });
});
