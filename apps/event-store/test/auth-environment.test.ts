import { Code, ConnectError } from '@connectrpc/connect';
import { generateSigningKey, type JwksServer, signWith, startJwksServer } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, grpcClient } from './support/grpc-client.js';
import { type Harness, startHarness } from './support/service-harness.js';

const AUDIENCE = 'event-store';
const key = generateSigningKey('ES256', 'staging-es');

describe('APP_ENV=staging: development tokens refused (SPEC §3)', () => {
  let jwks: JwksServer;
  let harness: Harness;

  beforeAll(async () => {
    jwks = await startJwksServer([key]);
    harness = await startHarness({ APP_ENV: 'staging', AUTH_JWKS_URL: jwks.url, AUTH_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await harness?.stop();
    await jwks?.close();
  });

  it('answers 401 / UNAUTHENTICATED to a dev-secret sys_admin token, and serves the IdP token', async () => {
    // harness.call and auth() sign HS256 tokens with the public dev secret.
    const rest = await harness.call('GET', '/api/v1/events', { role: 'sys_admin' });
    expect(rest.status).toBe(401);
    expect(rest.body.error.code).toBe('SYS_EVSTORE_UNAUTHORIZED');
    const error = await grpcClient(harness.grpcUrl)
      .readAll({}, auth('sys_admin'))
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.Unauthenticated);

    const now = Math.floor(Date.now() / 1000);
    const idp = signWith(key, {
      sub: 'svc',
      aud: AUDIENCE,
      exp: now + 300,
      resource_access: { [AUDIENCE]: { roles: ['sys_auditor'] }, other: { roles: ['sys_admin'] } },
    });
    const ok = await fetch(`${harness.baseUrl}/api/v1/events`, {
      headers: { authorization: `Bearer ${idp}` },
    });
    expect(ok.status).toBe(200);
    // sys_auditor from this client; the other client's sys_admin does not reach delete.
    const del = await fetch(`${harness.baseUrl}/api/v1/streams/s-1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${idp}` },
    });
    expect(del.status).toBe(403);
  });
});
