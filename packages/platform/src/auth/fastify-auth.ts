import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { unauthenticated } from './auth-errors.js';
import { asCallerGate, type CallerGate } from './caller-gate.js';
import type { Principal } from './principal.js';
import type { RoleRequirement } from './roles.js';
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
    requireAuth(required: RoleRequirement): onRequestHookHandler;
  }
}

export interface AuthPluginOptions {
  /** The service's CallerGate (Bearer + ApiKey, refusals audited), or a bare TokenVerifier. */
  verifier: TokenVerifier | CallerGate;
}

async function registerAuth(app: FastifyInstance, { verifier }: AuthPluginOptions): Promise<void> {
  const gate = asCallerGate(verifier);
  app.decorateRequest('principal', undefined);
  app.decorate('requireAuth', (required: RoleRequirement): onRequestHookHandler => {
    // A callback hook, not an async one: a remembered token (every request of a client but its
    // first) is admitted without a promise or a microtask turn.
    return (request, _reply, done) => {
      const { authorization } = request.headers;
      const where = new RestSite(request);
      let known: Principal | undefined;
      try {
        known = gate.admitKnown(authorization, required, where);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (known !== undefined) {
        request.principal = known;
        done();
        return;
      }
      gate.admit(authorization, required, where).then(
        (principal) => {
          request.principal = principal;
          done();
        },
        (error: Error) => done(error),
      );
    };
  });
}

/**
 * Where a REST call is refused, as the audit trail names it. The operation is made only when read
 * (a refusal): Fastify builds `request.routeOptions` anew on every read.
 */
class RestSite {
  readonly protocol = 'rest' as const;
  constructor(private readonly request: FastifyRequest) {}
  get operation(): string {
    return `${this.request.method} ${this.request.routeOptions.url ?? this.request.url}`;
  }
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
