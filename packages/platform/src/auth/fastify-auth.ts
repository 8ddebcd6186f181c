import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { unauthenticated } from './auth-errors.js';
import { bearerToken } from './bearer.js';
import type { Principal } from './principal.js';
import { type RoleRequirement, requireRole } from './roles.js';
import type { TokenVerifier } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a `requireAuth` hook; undefined on public routes. */
    principal: Principal | undefined;
  }
  interface FastifyInstance {
    /**
     * onRequest hook for route options: `{ onRequest: app.requireAuth('sys_auditor') }`. It runs
     * before the body is read, so an unauthenticated request never has its body parsed.
     */
    requireAuth(required: RoleRequirement): onRequestAsyncHookHandler;
  }
}

export interface AuthPluginOptions {
  verifier: TokenVerifier;
}

async function registerAuth(app: FastifyInstance, { verifier }: AuthPluginOptions): Promise<void> {
  app.decorateRequest('principal', undefined);
  app.decorate('requireAuth', (required: RoleRequirement): onRequestAsyncHookHandler => {
    return async (request) => {
      const principal = await verifier.verify(bearerToken(request.headers.authorization));
      requireRole(principal, required);
      request.principal = principal;
    };
  });
}

/**
 * Fastify plugin: `app.register(authPlugin, { verifier })`. Marked skip-override (what fastify-plugin
 * does) so the decorators reach the routes of the registering scope. Errors are AppErrors, which the
 * app's error handler turns into 401/403 envelopes.
 */
export const authPlugin = Object.assign(registerAuth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'k1s0-auth',
});

/** The caller of a route guarded by `requireAuth`; throws if the route was left unguarded by mistake. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw unauthenticated('authentication required');
  return request.principal;
}
