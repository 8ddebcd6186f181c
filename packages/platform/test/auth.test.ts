import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createTokenVerifier,
  DEV_DEFAULT_SECRET,
  devTokenClaims,
  signDevToken,
  type TokenVerifier,
} from '../src/auth/index.js';
import { ConfigError } from '../src/config/index.js';
import { AppError } from '../src/errors/index.js';
import {
  generateSigningKey,
  type JwksServer,
  signWith,
  startJwksServer,
} from '../src/testing/jwks-server.js';

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
    typ: 'Bearer',
    azp: 'web-console',
    realm_access: { roles: ['sys_auditor', 'offline_access'] },
    resource_access: { [AUDIENCE]: { roles: ['sys_operator'] }, account: { roles: ['view-profile'] } },
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
    // Realm roles and this service's client roles; `account`'s roles are another client's.
    expect([...principal.roles].sort()).toEqual(['offline_access', 'sys_auditor', 'sys_operator']);
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

  it("ignores a sys_admin role granted by another client's resource_access", async () => {
    const foreign = claims({
      realm_access: { roles: [] },
      resource_access: { 'some-other-app': { roles: ['sys_admin'] }, [AUDIENCE]: { roles: ['sys_auditor'] } },
    });
    const principal = await verifier.verify(signWith(rsa, foreign));
    expect(principal.roles).toEqual(new Set(['sys_auditor']));
    // The client id can be configured apart from the audience (AUTH_CLIENT_ID).
    const byClientId = createTokenVerifier({
      jwksUrl: jwks.url,
      audience: AUDIENCE,
      clientId: 'some-other-app',
      appEnv: 'prod',
    });
    expect((await byClientId.verify(signWith(rsa, foreign))).roles).toEqual(new Set(['sys_admin']));
  });

  it('refuses refresh and ID tokens (Keycloak typ), accepting typ Bearer or none', async () => {
    await expectRejected(verifier, signWith(rsa, claims({ typ: 'Refresh' })), 'token is not an access token');
    await expectRejected(verifier, signWith(rsa, claims({ typ: 'ID' })), 'token is not an access token');
    const { typ: _typ, ...untyped } = claims();
    expect((await verifier.verify(signWith(rsa, untyped))).subject).toBe('user-1');
  });

  it('checks azp only against a configured allow-list (AUTH_ALLOWED_AZP)', async () => {
    // Default: any requesting client, as long as the audience is this service.
    expect((await verifier.verify(signWith(rsa, claims({ azp: 'batch-job' })))).subject).toBe('user-1');
    const restricted = createTokenVerifier({
      jwksUrl: jwks.url,
      audience: AUDIENCE,
      allowedAzp: ['web-console'],
      appEnv: 'prod',
    });
    expect((await restricted.verify(signWith(rsa, claims()))).subject).toBe('user-1');
    await expectRejected(
      restricted,
      signWith(rsa, claims({ azp: 'batch-job' })),
      'token was issued to a client that is not allowed',
    );
    const { azp: _azp, ...noAzp } = claims();
    await expectRejected(
      restricted,
      signWith(rsa, noAzp),
      'token was issued to a client that is not allowed',
    );
  });

  it('honours clockToleranceSec for exp', async () => {
    const tolerant = createTokenVerifier({
      jwksUrl: jwks.url,
      audience: AUDIENCE,
      appEnv: 'prod',
      clockToleranceSec: 60,
    });
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

  it('does not check iss/aud when none is configured (dev/test only: outside them aud is required)', async () => {
    const lenient = createTokenVerifier({ jwksUrl: jwks.url, appEnv: 'test' });
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
    // With `alg` published, likewise: no ES256 key under an RSA kid.
    await expectRejected(
      verifier,
      signWith(ec, claims(), { kid: rsa.kid }),
      'signing key does not match token algorithm',
    );
  });

  it('rejects malformed tokens', async () => {
    await expectRejected(verifier, 'not-a-jwt', 'malformed token');
  });
});

describe('JWKS key rotation and refetch limits', () => {
  let jwks: JwksServer;
  let clock = 1_000_000;
  const now = () => clock;
  const INTERVAL = 10_000;
  const prod = { jwksUrl: '', audience: AUDIENCE, appEnv: 'prod' };

  beforeAll(async () => {
    jwks = await startJwksServer([rsa]);
    prod.jwksUrl = jwks.url;
  });
  afterAll(() => jwks.close());

  it('refetches for unknown kids at most once per interval, decided before fetching', async () => {
    jwks.setKeys([rsa]);
    const verifier = createTokenVerifier(prod, { now, refetchIntervalMs: INTERVAL });
    await verifier.verify(signWith(rsa, claims()));
    const afterWarmUp = jwks.hits;
    const stranger = generateSigningKey('RS256', 'not-published');

    // Right after the warm-up fetch no unknown kid may fetch again.
    await expectRejected(verifier, signWith(stranger, claims()), 'unknown signing key');
    expect(jwks.hits).toBe(afterWarmUp);
    clock += INTERVAL;
    for (const kid of ['random-1', 'random-2', 'random-3', 'random-4']) {
      await expectRejected(verifier, signWith(rsa, claims(), { kid }), 'unknown signing key');
    }
    expect(jwks.hits).toBe(afterWarmUp + 1);
    // Known keys are unaffected.
    expect((await verifier.verify(signWith(rsa, claims()))).subject).toBe('user-1');
  });

  it('lets N concurrent forged kids cause at most one JWKS fetch (single flight)', async () => {
    jwks.setKeys([rsa]);
    // A fresh verifier: its first fetch is due, and every forged kid arrives while it is in flight.
    const verifier = createTokenVerifier(prod, { now, refetchIntervalMs: INTERVAL });
    const before = jwks.hits;
    const forged = Array.from({ length: 25 }, (_, i) => signWith(rsa, claims(), { kid: `forged-${i}` }));
    const outcomes = await Promise.allSettled(forged.map((token) => verifier.verify(token)));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(jwks.hits - before).toBe(1);

    clock += INTERVAL;
    const more = Array.from({ length: 25 }, (_, i) => signWith(rsa, claims(), { kid: `forged-b${i}` }));
    await Promise.allSettled(more.map((token) => verifier.verify(token)));
    expect(jwks.hits - before).toBe(2);
  });

  it('still accepts a really rotated key after a burst of forged kids', async () => {
    jwks.setKeys([rsa]);
    const verifier = createTokenVerifier(prod, { now, refetchIntervalMs: INTERVAL });
    await verifier.verify(signWith(rsa, claims()));
    const rotated = generateSigningKey('ES256', 'ec-rotated');
    jwks.setKeys([rsa, rotated]);

    // Forged kids arrive first and spend the refetch; it brings the rotated key along.
    clock += INTERVAL;
    for (let i = 0; i < 30; i += 1) {
      await expectRejected(verifier, signWith(rsa, claims(), { kid: `flood-${i}` }), 'unknown signing key');
    }
    expect((await verifier.verify(signWith(rotated, claims({ sub: 'rotated' })))).subject).toBe('rotated');

    // A key rotated in after that fetch: refused until the interval has passed, however many
    // forged kids keep coming meanwhile, then picked up by the next refetch whoever triggers it.
    const next = generateSigningKey('RS256', 'rsa-next');
    jwks.setKeys([rsa, rotated, next]);
    const early = signWith(next, claims({ sub: 'next' }));
    for (let second = 1; second < INTERVAL / 1000; second += 1) {
      clock += 1_000;
      await expectRejected(
        verifier,
        signWith(rsa, claims(), { kid: `flood-b${second}` }),
        'unknown signing key',
      );
      await expectRejected(verifier, early, 'unknown signing key');
    }
    clock += 1_000;
    await expectRejected(verifier, signWith(rsa, claims(), { kid: 'flood-last' }), 'unknown signing key');
    expect((await verifier.verify(early)).subject).toBe('next');
    // The old keys keep working during the rotation.
    expect((await verifier.verify(signWith(rsa, claims()))).subject).toBe('user-1');
    expect((await verifier.verify(signWith(rotated, claims()))).subject).toBe('user-1');
  });

  it('refreshes the key set after its TTL, keeping the last good set while the IdP fails', async () => {
    jwks.setKeys([rsa]);
    const verifier = createTokenVerifier(prod, { now, refetchIntervalMs: INTERVAL, cacheTtlMs: 60_000 });
    await verifier.verify(signWith(rsa, claims({ sub: 'a' })));
    const before = jwks.hits;
    jwks.setFailing(true);
    try {
      clock += 60_000;
      expect((await verifier.verify(signWith(rsa, claims({ sub: 'b' })))).subject).toBe('b');
      expect(jwks.hits).toBe(before + 1);
      // The failed refresh is not retried on every request.
      await verifier.verify(signWith(rsa, claims({ sub: 'c' })));
      expect(jwks.hits).toBe(before + 1);
    } finally {
      jwks.setFailing(false);
    }
    // A key withdrawn from the JWKS stops verifying once the set is refreshed.
    const replacement = generateSigningKey('RS256', 'rsa-replacement');
    jwks.setKeys([replacement]);
    clock += 60_000;
    await expectRejected(verifier, signWith(rsa, claims({ sub: 'd' })), 'unknown signing key');
    expect((await verifier.verify(signWith(replacement, claims()))).subject).toBe('user-1');
  });

  it('retries a failed first fetch after the short cold interval, not the full refetch interval', async () => {
    // The bench found this: on a cold, loaded start the first JWKS fetch timed out, and the
    // 10 s refetch interval then refused every token for 10 s although no key set was held.
    jwks.setKeys([rsa]);
    jwks.setFailing(true);
    const verifier = createTokenVerifier(prod, {
      now,
      refetchIntervalMs: INTERVAL,
      coldRefetchIntervalMs: 1_000,
    });
    const before = jwks.hits;
    try {
      const burst = Array.from({ length: 20 }, () => verifier.verify(signWith(rsa, claims())));
      const outcomes = await Promise.allSettled(burst);
      expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
      await expectRejected(verifier, signWith(rsa, claims()), 'signing keys unavailable');
      // Single flight, and no second fetch inside the cold interval.
      expect(jwks.hits - before).toBe(1);
    } finally {
      jwks.setFailing(false);
    }
    clock += 999;
    await expectRejected(verifier, signWith(rsa, claims()), 'signing keys unavailable');
    expect(jwks.hits - before).toBe(1);
    clock += 1;
    // The IdP is back: well inside the 10 s interval, the next token fetches and verifies.
    expect((await verifier.verify(signWith(rsa, claims()))).subject).toBe('user-1');
    expect(jwks.hits - before).toBe(2);
    // Once a key set is held, unknown kids are back on the full interval.
    clock += 1_000;
    await expectRejected(verifier, signWith(rsa, claims(), { kid: 'forged-cold' }), 'unknown signing key');
    expect(jwks.hits - before).toBe(2);
  });

  it('aborts a JWKS request that hangs after fetchTimeoutMs', async () => {
    // An IdP that accepts the request and never answers.
    const pending: IncomingMessage[] = [];
    const closed: Promise<void>[] = [];
    const hanging = createServer((req) => {
      pending.push(req);
      closed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hanging.address() as AddressInfo;
      const verifier = createTokenVerifier(
        { ...prod, jwksUrl: `http://127.0.0.1:${port}/certs` },
        { fetchTimeoutMs: 300 },
      );
      const started = Date.now();
      await expectRejected(verifier, signWith(rsa, claims()), 'signing keys unavailable');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(pending).toHaveLength(1);
      // The client really gave up: its connection is closed, not left open.
      await closed[0];
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
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

  it('requires exp on dev tokens too; accepts a hand-minted one with exp and no sub', async () => {
    const verifier = createTokenVerifier({ devSecret: secret, appEnv: 'dev' });
    const sign = createSigner({ key: secret, algorithm: 'HS256' });
    const claimsOf = { email: 'tester@example.com', realm_access: { roles: ['sys_operator'] } };
    await expectRejected(verifier, sign(claimsOf), 'token lacks exp claim');
    const principal = await verifier.verify(sign({ ...claimsOf, exp: nowSec() + 60 }));
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

  it('refuses a dev secret, a missing JWKS or a missing audience outside dev/test, naming the setting', () => {
    const configErrorOf = (attempt: () => unknown): ConfigError => {
      try {
        attempt();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    for (const appEnv of ['staging', 'prod', 'production', 'ci']) {
      const withSecret = configErrorOf(() =>
        createTokenVerifier({
          jwksUrl: 'https://idp.test/certs',
          audience: AUDIENCE,
          devSecret: DEV_DEFAULT_SECRET,
          appEnv,
        }),
      );
      expect(withSecret.fields).toEqual(['auth.dev_secret']);
      expect(withSecret.message).toContain('AUTH_DEV_SECRET');
      expect(withSecret.message).toContain(`APP_ENV=${appEnv}`);

      const noAudience = configErrorOf(() =>
        createTokenVerifier({ jwksUrl: 'https://idp.test/certs', appEnv }),
      );
      expect(noAudience.fields).toEqual(['auth.audience']);
      expect(noAudience.message).toContain('AUTH_AUDIENCE');

      const devOnly = configErrorOf(() => createTokenVerifier({ devSecret: secret, appEnv }));
      expect(devOnly.fields).toEqual(['auth.dev_secret', 'auth.jwks_url', 'auth.audience']);
    }
    expect(() => createTokenVerifier({ appEnv: 'dev' })).toThrow(/no token verification configured/);
  });

  it('refuses HS256 development tokens outside dev/test even when signed with the secret', async () => {
    const jwks = await startJwksServer([rsa]);
    try {
      const staging = createTokenVerifier({ jwksUrl: jwks.url, audience: AUDIENCE, appEnv: 'staging' });
      const devToken = signDevToken(
        devTokenClaims({ roles: ['sys_admin'], aud: AUDIENCE }),
        DEV_DEFAULT_SECRET,
      );
      await expectRejected(staging, devToken, 'token algorithm not allowed');
    } finally {
      await jwks.close();
    }
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
