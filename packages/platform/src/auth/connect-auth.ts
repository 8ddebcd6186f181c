import type { DescService } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextKey,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
} from '@connectrpc/connect';
import { isAppError } from '../errors/index.js';
import { asCallerGate, type CallerGate, GrpcSite } from './caller-gate.js';
import type { Principal } from './principal.js';
import type { RoleRequirement } from './roles.js';
import type { TokenVerifier } from './token-verifier.js';

/** Where the interceptor leaves the caller for handlers: `ctx.values.get(principalKey)`. */
export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: 'k1s0 principal',
});

/** What each RPC demands; 'public' skips authentication (e.g. health checks). */
export type RpcRoleRequirement = RoleRequirement | 'public';
export type RolesByMethod = (serviceTypeName: string, methodName: string) => RpcRoleRequirement;

/**
 * An app's one role table (SPEC §3): the role of each operation, keyed by the RPC's method name
 * as in ServiceImpl (`getConfig`), plus REST-only operations. REST routes and rolesByMethodFrom
 * read the same table, so the two protocols cannot drift apart.
 */
export type RoleTable<S extends DescService, RestOnly extends string = never> = Readonly<
  Record<keyof ServiceImpl<S> | RestOnly, RoleRequirement>
>;

/** The interceptor's RolesByMethod for `service` from its table; anything else needs sys_admin. */
export function rolesByMethodFrom<S extends DescService>(
  service: S,
  table: RoleTable<S, string>,
): RolesByMethod {
  const byMethodName = new Map<string, RoleRequirement>(
    service.methods.map((method) => [method.name, table[method.localName as keyof ServiceImpl<S>]]),
  );
  return (serviceTypeName, methodName) =>
    (serviceTypeName === service.typeName && byMethodName.get(methodName)) || 'sys_admin';
}

function toConnectError(error: unknown): unknown {
  if (!isAppError(error)) return error;
  if (error.kind === 'unauthenticated')
    return new ConnectError(error.message, Code.Unauthenticated, undefined, undefined, error);
  if (error.kind === 'permission_denied')
    return new ConnectError(error.message, Code.PermissionDenied, undefined, undefined, error);
  return error;
}

/**
 * Server interceptor authenticating every RPC from `authorization: Bearer …` or `ApiKey …`
 * metadata through the same CallerGate the REST routes use, then enforcing the method's role.
 */
export function authInterceptor(
  verifier: TokenVerifier | CallerGate,
  rolesByMethod: RolesByMethod,
): Interceptor {
  const gate = asCallerGate(verifier);
  return (next) => async (req) => {
    const required = rolesByMethod(req.service.typeName, req.method.name);
    if (required === 'public') return next(req);
    try {
      const where = new GrpcSite(req.service.typeName, req.method.name);
      // Authenticated from the headers already (the RPC gate): only the role is left to check.
      const known = req.contextValues.get(principalKey);
      const principal =
        known !== undefined
          ? gate.authorize(known, required, where)
          : await gate.admit(req.header.get('authorization') ?? undefined, required, where);
      req.contextValues.set(principalKey, principal);
    } catch (error) {
      throw toConnectError(error);
    }
    return next(req);
  };
}

/** The caller of an RPC behind authInterceptor; Unauthenticated if the interceptor was not installed. */
export function principalFromContext(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (principal === undefined) throw new ConnectError('authentication required', Code.Unauthenticated);
  return principal;
}
