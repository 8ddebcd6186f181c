import { createHmac } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { DEV_DEFAULT_SECRET } from '@k1s0/platform';
import {
  codeOf,
  generateSigningKey,
  type JwksServer,
  signWith,
  startJwksServer,
  type TestSigningKey,
} from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, connectClient, grpcClient } from './support/grpc.js';
import { call, type ErrorBody, startWithDatabase, tokens } from './support/service.js';

const AUDIENCE = 'config-server';
const nowSec = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT exactly as given (jwt.sign without expiresIn mints such tokens). */
function hs256(claims: Record<string, unknown>, secret: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('APP_ENV=staging: identity-provider tokens only (SPEC §3)', () => {
  let key: TestSigningKey;
  let jwks: JwksServer;
  let ctx: Awaited<ReturnType<typeof startWithDatabase>>;

  const idpToken = (claims: Record<string, unknown>) =>
    signWith(key, { sub: 'u-1', email: 'idp@example.com', aud: AUDIENCE, exp: nowSec() + 300, ...claims });

  beforeAll(async () => {
    key = generateSigningKey('RS256', 'staging-key');
    jwks = await startJwksServer([key]);
    ctx = await startWithDatabase({ APP_ENV: 'staging', AUTH_JWKS_URL: jwks.url, AUTH_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await ctx?.stop();
    await jwks?.close();
  });

  it('listens on every interface unless told otherwise', () => {
    expect(ctx.server.config.server.host).toBe('0.0.0.0');
  });

  it('refuses an HS256 sys_admin token signed with the dev secret on REST, Connect and gRPC', async () => {
    const path = '/api/v1/config/system.auth.staging';
    const rest = await call<ErrorBody>(ctx.server, 'GET', path, { token: tokens.admin });
    expect(rest.status).toBe(401);
    expect(rest.body.error.code).toBe('SYS_CONFIG_UNAUTHORIZED');
    const request = { namespace: 'system.auth.staging' };
    expect(await codeOf(grpcClient(ctx.server).listConfigs(request, auth(tokens.admin)))).toBe(
      Code.Unauthenticated,
    );
    expect(await codeOf(connectClient(ctx.server).listConfigs(request, auth(tokens.admin)))).toBe(
      Code.Unauthenticated,
    );
    // The identity provider's token for the same role is accepted.
    const admin = idpToken({ realm_access: { roles: ['sys_admin'] } });
    expect((await call(ctx.server, 'GET', path, { token: admin })).status).toBe(200);
    await expect(grpcClient(ctx.server).listConfigs(request, auth(admin))).resolves.toBeDefined();
  });

  it("grants nothing for a sys_admin role of another client; this client's roles count", async () => {
    const path = '/api/v1/config/system.auth.staging/k';
    const foreign = idpToken({ resource_access: { 'other-app': { roles: ['sys_admin'] } } });
    const rest = await call<ErrorBody>(ctx.server, 'DELETE', path, { token: foreign });
    expect(rest.status).toBe(403);
    expect(rest.body.error.code).toBe('SYS_CONFIG_PERMISSION_DENIED');
    expect(
      await codeOf(
        grpcClient(ctx.server).deleteConfig({ namespace: 'system.auth.staging', key: 'k' }, auth(foreign)),
      ),
    ).toBe(Code.PermissionDenied);
    const own = idpToken({ resource_access: { [AUDIENCE]: { roles: ['sys_admin'] } } });
    // Past authorization: the key does not exist.
    expect((await call(ctx.server, 'DELETE', path, { token: own })).status).toBe(404);
  });

  it('refuses a token for another audience and a refresh token', async () => {
    const path = '/api/v1/config/system.auth.staging';
    const roles = { realm_access: { roles: ['sys_admin'] } };
    expect(
      (await call(ctx.server, 'GET', path, { token: idpToken({ ...roles, aud: 'other' }) })).status,
    ).toBe(401);
    expect(
      (await call(ctx.server, 'GET', path, { token: idpToken({ ...roles, typ: 'Refresh' }) })).status,
    ).toBe(401);
  });
});

describe('APP_ENV=dev: development tokens', () => {
  let ctx: Awaited<ReturnType<typeof startWithDatabase>>;

  beforeAll(async () => {
    ctx = await startWithDatabase();
  });
  afterAll(async () => ctx?.stop());

  it('listens on loopback and refuses a dev token without exp (401 / UNAUTHENTICATED)', async () => {
    expect(ctx.server.config.server.host).toBe('127.0.0.1');
    const sign = (claims: Record<string, unknown>) => hs256(claims, DEV_DEFAULT_SECRET);
    const claims = { email: 'forever@example.com', realm_access: { roles: ['sys_admin'] } };
    const path = '/api/v1/config/system.auth.dev';
    const rest = await call<ErrorBody>(ctx.server, 'GET', path, { token: sign(claims) });
    expect(rest.status).toBe(401);
    expect(rest.body.error.code).toBe('SYS_CONFIG_UNAUTHORIZED');
    expect(
      await codeOf(grpcClient(ctx.server).listConfigs({ namespace: 'system.auth.dev' }, auth(sign(claims)))),
    ).toBe(Code.Unauthenticated);
    const withExp = sign({ ...claims, exp: nowSec() + 60 });
    expect((await call(ctx.server, 'GET', path, { token: withExp })).status).toBe(200);
  });
});
