import { isAppError } from '../errors/index.js';
import { actorOfRefusal, unauthenticated } from './auth-errors.js';
import { BEARER, bearerToken } from './bearer.js';
import type { Principal } from './principal.js';
import { type RoleRequirement, requireRole } from './roles.js';
import type { TokenVerifier } from './token-verifier.js';

/** Verifies the secret of an `Authorization: ApiKey <key>` header (see apikeys/). */
export interface ApiKeyAuthenticator {
  /** The key's principal, or throws AppError('unauthenticated') with a short reason. */
  verify(key: string): Promise<Principal>;
}

/** A refused request, as the audit trail records it (never the credential itself). */
export interface Denial {
  kind: 'unauthenticated' | 'permission_denied';
  /** Who the caller proved to be, when it did (a valid token lacking the role, an expired key). */
  actor?: string | undefined;
  /** `GET /api/v1/config/:namespace` or `/k1s0.system.config.v1.ConfigService/GetConfig`. */
  operation: string;
  protocol: 'rest' | 'grpc';
  reason: string;
  required: RoleRequirement;
}

/**
 * Where an RPC is refused, as the audit trail names it (`/<service>/<method>`). The operation is
 * made only when read, that is for a refusal: admitting a call builds no string.
 */
export class GrpcSite {
  readonly protocol = 'grpc' as const;
  constructor(
    private readonly service: string,
    private readonly method: string,
  ) {}
  get operation(): string {
    return `/${this.service}/${this.method}`;
  }
}

/**
 * The one admission point of REST routes and RPCs: resolves the caller from the Authorization
 * header (Bearer JWT or ApiKey), checks the role, and reports every refusal.
 */
export interface CallerGate {
  admit(
    authorization: string | undefined,
    required: RoleRequirement,
    where: { operation: string; protocol: 'rest' | 'grpc' },
  ): Promise<Principal>;
  /**
   * `admit` without a promise for a Bearer token the verifier already accepted and remembers (the
   * same role check and refusal report); undefined when the credential needs `admit`.
   */
  admitKnown(
    authorization: string | undefined,
    required: RoleRequirement,
    where: { operation: string; protocol: 'rest' | 'grpc' },
  ): Principal | undefined;
  /**
   * The role check (and its refusal report) alone, for a caller this gate already admitted for
   * the same request: an RPC is authenticated from its headers before its body is read, and its
   * role is checked once the method's interceptors run, without verifying the credential twice.
   */
  authorize(
    principal: Principal,
    required: RoleRequirement,
    where: { operation: string; protocol: 'rest' | 'grpc' },
  ): Principal;
}

export interface CallerGateOptions {
  tokens: TokenVerifier;
  /** Absent: the ApiKey scheme is refused like any other unknown scheme. */
  apiKeys?: ApiKeyAuthenticator | undefined;
  /** Called synchronously for each refusal; must not throw or block (the audit trail queues it). */
  onDenied?: ((denial: Denial) => void) | undefined;
}

// RFC 7235: the scheme name is case-insensitive; our keys are base64url plus a fixed prefix.
const API_KEY = /^apikey +([A-Za-z0-9_-]+) *$/i;
const API_KEY_SCHEME = /^apikey(\s|$)/i;

function authenticate(options: CallerGateOptions, header: string | undefined): Promise<Principal> {
  if (header !== undefined && API_KEY_SCHEME.test(header)) {
    if (options.apiKeys === undefined) throw unauthenticated('api keys are not accepted here');
    const match = API_KEY.exec(header);
    if (!match?.[1]) throw unauthenticated('malformed authorization header');
    return options.apiKeys.verify(match[1]);
  }
  return options.tokens.verify(bearerToken(header));
}

export function createCallerGate(options: CallerGateOptions): CallerGate {
  const reportDenial = (
    error: unknown,
    actor: string | undefined,
    required: RoleRequirement,
    where: { operation: string; protocol: 'rest' | 'grpc' },
  ) => {
    if (
      options.onDenied !== undefined &&
      isAppError(error) &&
      (error.kind === 'unauthenticated' || error.kind === 'permission_denied')
    ) {
      options.onDenied({
        kind: error.kind,
        actor: actor ?? actorOfRefusal(error),
        operation: where.operation,
        protocol: where.protocol,
        reason: error.message,
        required,
      });
    }
  };
  const authorize: CallerGate['authorize'] = (principal, required, where) => {
    try {
      requireRole(principal, required);
      return principal;
    } catch (error) {
      reportDenial(error, principal.actor, required, where);
      throw error;
    }
  };
  return {
    admitKnown(header, required, where) {
      if (options.tokens.known === undefined || header === undefined || API_KEY_SCHEME.test(header)) {
        return undefined;
      }
      const match = BEARER.exec(header);
      const principal = match?.[1] === undefined ? undefined : options.tokens.known(match[1]);
      return principal === undefined ? undefined : authorize(principal, required, where);
    },
    async admit(header, required, where) {
      let principal: Principal;
      try {
        principal = await authenticate(options, header);
      } catch (error) {
        reportDenial(error, undefined, required, where);
        throw error;
      }
      return authorize(principal, required, where);
    },
    authorize,
  };
}

/** A bare TokenVerifier (Bearer only, no audit) as a gate: what tests and older wiring pass. */
export function asCallerGate(source: TokenVerifier | CallerGate): CallerGate {
  return 'admit' in source ? source : createCallerGate({ tokens: source });
}
