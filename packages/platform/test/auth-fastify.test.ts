import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authPlugin,
  createCallerGate,
  createTokenVerifier,
  type Denial,
  devTokenClaims,
  principalOf,
  type Role,
  signDevToken,
} from '../src/auth/index.js';
import { httpStatusOf, isAppError } from '../src/errors/index.js';

const SECRET = 'fastify-test-secret';

function tokenFor(roles: Role[], email = 'bob@example.com'): string {
  return signDevToken(devTokenClaims({ roles, email }), SECRET, 60);
}

describe('authPlugin through app.inject', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = Fastify();
    // Stand-in for the services' error handler: AppError kind → status and code.
    app.setErrorHandler((error, _request, reply) => {
      if (!isAppError(error)) return reply.code(500).send({ code: 'INTERNAL_ERROR' });
      return reply.code(httpStatusOf[error.kind]).send({ code: error.code, message: error.message });
    });
    await app.register(authPlugin, { verifier: createTokenVerifier({ devSecret: SECRET, appEnv: 'dev' }) });
    // Routes live in their own encapsulated plugin, as the services register them.
    await app.register(async (routes) => {
      routes.get('/public', async (request) => ({ principal: request.principal ?? null }));
      routes.get('/audit', { onRequest: routes.requireAuth('sys_auditor') }, async (request) => ({
        actor: principalOf(request).actor,
      }));
      routes.delete('/admin', { onRequest: routes.requireAuth('sys_admin') }, async () => ({
        deleted: true,
      }));
      routes.get('/any', { onRequest: routes.requireAuth('authenticated') }, async (request) => ({
        roles: [...principalOf(request).roles],
      }));
    });
  });
  afterAll(() => app.close());

  const call = (method: 'GET' | 'DELETE', url: string, token?: string) =>
    app.inject({ method, url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('leaves public routes open, with no principal', async () => {
    const res = await call('GET', '/public');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ principal: null });
  });

  it('answers 401 UNAUTHORIZED without, or with a bad, token', async () => {
    const missing = await call('GET', '/audit');
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ code: 'UNAUTHORIZED', message: 'missing bearer token' });

    const forged = await call(
      'GET',
      '/audit',
      signDevToken(devTokenClaims({ roles: ['sys_admin'] }), 'wrong'),
    );
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ code: 'UNAUTHORIZED', message: 'invalid token signature' });

    const expired = await call(
      'GET',
      '/audit',
      signDevToken(devTokenClaims({ roles: ['sys_admin'] }), SECRET, -5),
    );
    expect(expired.json()).toMatchObject({ code: 'UNAUTHORIZED', message: 'token expired' });
  });

  it('answers 403 PERMISSION_DENIED for an insufficient role', async () => {
    const res = await call('DELETE', '/admin', tokenFor(['sys_operator']));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('lets a higher role through and exposes the principal to the handler', async () => {
    const audit = await call('GET', '/audit', tokenFor(['sys_admin'], 'carol@example.com'));
    expect(audit.statusCode).toBe(200);
    expect(audit.json()).toEqual({ actor: 'carol@example.com' });
    expect((await call('DELETE', '/admin', tokenFor(['sys_admin']))).statusCode).toBe(200);
  });

  it("accepts any valid token on 'authenticated' routes", async () => {
    const res = await call('GET', '/any', tokenFor([]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ roles: [] });
  });
});

describe('a remembered token (admitted without a promise)', () => {
  let app: FastifyInstance;
  const denials: Denial[] = [];
  const verifier = createTokenVerifier({ devSecret: SECRET, appEnv: 'dev' });

  beforeAll(async () => {
    app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      if (!isAppError(error)) return reply.code(500).send({ code: 'INTERNAL_ERROR' });
      return reply.code(httpStatusOf[error.kind]).send({ code: error.code, message: error.message });
    });
    const gate = createCallerGate({ tokens: verifier, onDenied: (denial) => denials.push(denial) });
    await app.register(authPlugin, { verifier: gate });
    await app.register(async (routes) => {
      routes.get('/audit', { onRequest: routes.requireAuth('sys_auditor') }, async (request) => ({
        actor: principalOf(request).actor,
      }));
      routes.delete('/admin', { onRequest: routes.requireAuth('sys_admin') }, async () => ({
        deleted: true,
      }));
    });
  });
  afterAll(() => app.close());

  const call = (method: 'GET' | 'DELETE', url: string, authorization: string) =>
    app.inject({ method, url, headers: { authorization } });

  it('gets the same answers and refusal reports as on its first request', async () => {
    const token = tokenFor(['sys_auditor'], 'dave@example.com');
    expect(verifier.known?.(token)).toBeUndefined();
    for (const round of [1, 2, 3]) {
      const allowed = await call('GET', '/audit', `Bearer ${token}`);
      expect(allowed.statusCode, `round ${round}`).toBe(200);
      expect(allowed.json()).toEqual({ actor: 'dave@example.com' });
      // The scheme name is case-insensitive on both paths.
      expect((await call('GET', '/audit', `bearer  ${token}`)).statusCode).toBe(200);
      const refused = await call('DELETE', '/admin', `Bearer ${token}`);
      expect(refused.statusCode, `round ${round}`).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'PERMISSION_DENIED' });
    }
    expect(verifier.known?.(token)?.actor).toBe('dave@example.com');
    expect(denials).toHaveLength(3);
    for (const denial of denials) {
      expect(denial).toMatchObject({
        kind: 'permission_denied',
        actor: 'dave@example.com',
        operation: 'DELETE /admin',
        protocol: 'rest',
        required: 'sys_admin',
      });
    }
  });

  it('still refuses a malformed header carrying a remembered token', async () => {
    const token = tokenFor(['sys_admin']);
    expect((await call('GET', '/audit', `Bearer ${token}`)).statusCode).toBe(200);
    const malformed = await call('GET', '/audit', `Bearer ${token} extra`);
    expect(malformed.statusCode).toBe(401);
    expect(malformed.json()).toMatchObject({ message: 'malformed authorization header' });
  });
});
