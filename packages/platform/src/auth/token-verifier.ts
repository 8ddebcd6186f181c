import { type Algorithm, createDecoder, createVerifier, TOKEN_ERROR_CODES } from 'fast-jwt';
import { type ConfigIssue, configError, isDevEnvironment } from '../config/index.js';
import { isAppError } from '../errors/index.js';
import { unauthenticated } from './auth-errors.js';
import { createJwksKeySource, type JwksKeySourceOptions, type TokenHeader } from './jwks-key-source.js';
import { type Principal, principalFromClaims } from './principal.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export interface AuthOptions {
  /** Production: verify RS256/ES256 against this JWKS. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  /** Required (and checked) unless appEnv is dev/test. */
  audience?: string | undefined;
  /** The Keycloak client whose `resource_access` roles count; default: `audience`. */
  clientId?: string | undefined;
  /** When set, `azp` (the client that requested the token) must be one of these. */
  allowedAzp?: readonly string[] | undefined;
  /** Development only (appEnv dev/test): HS256 shared secret, used when no jwksUrl is configured. */
  devSecret?: string | undefined;
  appEnv: string;
  clockToleranceSec?: number;
}

export interface TokenVerifier {
  readonly mode: 'jwks' | 'dev';
  /** Resolves the caller, or throws AppError('unauthenticated', UNAUTHORIZED) with a short reason. */
  verify(token: string): Promise<Principal>;
  /**
   * The caller of a token this verifier accepted and still remembers, synchronously (no signature
   * check, no key fetch); undefined for any other token, which then goes through `verify`. A
   * client sends its one token on every request: the hot path needs no promise.
   */
  known?(token: string): Principal | undefined;
}

/** Tuning and clock hooks for the JWKS key source; tests use them, services keep the defaults. */
export type JwksTuning = Omit<JwksKeySourceOptions, 'jwksUrl'>;

/**
 * Verified tokens are reused for at most this long (and never past their exp). Short, so a key
 * withdrawn from the JWKS stops being honoured soon after the JWKS itself is refetched.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKEN_CACHE_SIZE = 2_000;
/** JWKS keys seen by this process; far above any real key set, it only bounds pathological rotation. */
const MAX_KEY_VERIFIERS = 100;

type ClaimsVerifier = (token: string) => unknown;

// Short reasons for callers; the fast-jwt error stays attached as `cause` for logs.
const REASONS: Record<string, string> = {
  [TOKEN_ERROR_CODES.expired]: 'token expired',
  [TOKEN_ERROR_CODES.inactive]: 'token not yet valid',
  [TOKEN_ERROR_CODES.invalidSignature]: 'invalid token signature',
  [TOKEN_ERROR_CODES.invalidAlgorithm]: 'token algorithm not allowed',
  [TOKEN_ERROR_CODES.invalidKey]: 'token algorithm not allowed',
  [TOKEN_ERROR_CODES.missingSignature]: 'token is not signed',
  [TOKEN_ERROR_CODES.malformed]: 'malformed token',
  [TOKEN_ERROR_CODES.invalidType]: 'malformed token',
  [TOKEN_ERROR_CODES.invalidPayload]: 'malformed token',
  [TOKEN_ERROR_CODES.invalidCritHeader]: 'unsupported critical token header',
};

function toAuthError(error: unknown): Error {
  if (isAppError(error)) return error;
  const { code, message, originalError } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    originalError?: unknown;
  };
  // Errors thrown by our key source arrive wrapped by fast-jwt.
  if (isAppError(originalError)) return originalError;
  const claim = typeof message === 'string' ? /\b(\w+) claim\b/.exec(message)?.[1] : undefined;
  if (code === TOKEN_ERROR_CODES.invalidClaimValue || code === TOKEN_ERROR_CODES.invalidClaimType) {
    return unauthenticated(claim ? `invalid ${claim} claim` : 'invalid token claims', error);
  }
  if (code === TOKEN_ERROR_CODES.missingRequiredClaim) {
    return unauthenticated(claim ? `token lacks ${claim} claim` : 'token lacks a required claim', error);
  }
  return unauthenticated((typeof code === 'string' && REASONS[code]) || 'invalid token', error);
}

/**
 * What SPEC §3 forbids at start-up, as config issues naming the setting: outside dev/test a JWKS
 * and an audience are required and a development secret is refused, whatever else is set.
 */
export function authConfigIssues(options: AuthOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const where = `APP_ENV=${options.appEnv}`;
  if (isDevEnvironment(options.appEnv)) {
    if (!options.jwksUrl && !options.devSecret) {
      issues.push({
        field: 'auth.jwks_url',
        message: 'no token verification configured; set AUTH_JWKS_URL or AUTH_DEV_SECRET',
      });
    }
    return issues;
  }
  if (options.devSecret) {
    issues.push({
      field: 'auth.dev_secret',
      message: `AUTH_DEV_SECRET is set but development tokens are only accepted when APP_ENV is dev or test (${where}); remove it`,
    });
  }
  if (!options.jwksUrl) {
    issues.push({ field: 'auth.jwks_url', message: `AUTH_JWKS_URL is required when ${where}` });
  }
  if (!options.audience) {
    issues.push({
      field: 'auth.audience',
      message: `AUTH_AUDIENCE is required unless APP_ENV is dev or test (${where})`,
    });
  }
  return issues;
}

function resolveMode(options: AuthOptions): { jwksUrl: string } | { devSecret: string } {
  const issues = authConfigIssues(options);
  if (issues.length > 0) throw configError(issues);
  if (options.jwksUrl) return { jwksUrl: options.jwksUrl };
  if (options.devSecret) return { devSecret: options.devSecret };
  throw configError([{ field: 'auth.jwks_url', message: 'no token verification configured' }]);
}

/**
 * Keycloak marks what a token is for in `typ`: access tokens say "Bearer"; refresh ("Refresh"),
 * ID ("ID"), offline and logout tokens are signed by the same keys and must not open the API.
 * Tokens of other issuers may omit it.
 */
const ACCESS_TOKEN_TYP = 'Bearer';

function checkTokenUse(claims: Record<string, unknown>, allowedAzp: readonly string[] | undefined): void {
  if (claims.typ !== undefined && claims.typ !== ACCESS_TOKEN_TYP) {
    throw unauthenticated('token is not an access token');
  }
  if (allowedAzp !== undefined && !(typeof claims.azp === 'string' && allowedAzp.includes(claims.azp))) {
    throw unauthenticated('token was issued to a client that is not allowed');
  }
}

/**
 * The one token verifier shared by REST and gRPC. Throws a ConfigError at construction on a
 * configuration that must not start (see authConfigIssues).
 */
export function createTokenVerifier(options: AuthOptions, jwksTuning: JwksTuning = {}): TokenVerifier {
  const mode = resolveMode(options);
  const claimChecks = {
    ...(options.issuer ? { allowedIss: options.issuer } : {}),
    ...(options.audience ? { allowedAud: options.audience } : {}),
    clockTolerance: (options.clockToleranceSec ?? 0) * 1000,
    // fast-jwt skips checks of absent claims: a configured iss/aud must be present, and exp on
    // every token (SPEC §3), dev tokens too: a token without one would be valid forever.
    requiredClaims: ['exp', ...(options.issuer ? ['iss'] : []), ...(options.audience ? ['aud'] : [])],
  };

  let verifyClaims: (token: string) => Promise<unknown>;
  if ('jwksUrl' in mode) {
    const keyFor = createJwksKeySource({ ...jwksTuning, jwksUrl: mode.jwksUrl });
    const decodeComplete = createDecoder({ complete: true });
    // One synchronous verifier per signing key: fast-jwt turns a static key into a KeyObject once,
    // whereas a key callback makes it parse the PEM again on every token.
    const keyVerifiers = new Map<string, ClaimsVerifier>();
    const verifierFor = (pem: string, alg: Algorithm): ClaimsVerifier => {
      const cacheKey = `${alg}\n${pem}`;
      let verifier = keyVerifiers.get(cacheKey);
      if (verifier === undefined) {
        if (keyVerifiers.size >= MAX_KEY_VERIFIERS) keyVerifiers.clear();
        verifier = createVerifier({ ...claimChecks, algorithms: [alg], key: pem });
        keyVerifiers.set(cacheKey, verifier);
      }
      return verifier;
    };
    verifyClaims = async (token) => {
      const { header } = decodeComplete(token) as { header: TokenHeader };
      // The key source admits only the pinned algorithms and a key of the matching type.
      const pem = await keyFor(header);
      return verifierFor(pem, header.alg as Algorithm)(token);
    };
  } else {
    const verifySync = createVerifier({
      ...claimChecks,
      algorithms: ['HS256' satisfies Algorithm],
      key: mode.devSecret,
    });
    verifyClaims = async (token) => verifySync(token);
  }
  // The principal, not the claims: it is what every request needs, and mapping the claims again
  // on each hit was per-request work. Principals are shared, read-only values.
  const verified = new VerifiedTokenCache<Principal>({
    maxEntries: VERIFIED_TOKEN_CACHE_SIZE,
    ttlMs: VERIFIED_TOKEN_TTL_MS,
  });
  const clockToleranceMs = claimChecks.clockTolerance;
  // Roles of this service's own Keycloak client only (SPEC §3); without one, realm roles only.
  const clientId = options.clientId ?? options.audience;
  const principalOf = (claims: Record<string, unknown>) => principalFromClaims(claims, clientId);
  const inFlight = new Map<string, Promise<Principal>>();

  /** Full verification; an accepted token's principal is remembered until min(exp, TTL). */
  async function verifyOnce(token: string): Promise<Principal> {
    let claims: unknown;
    try {
      claims = await verifyClaims(token);
    } catch (error) {
      throw toAuthError(error);
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw unauthenticated('malformed token');
    }
    const record = claims as Record<string, unknown>;
    checkTokenUse(record, options.allowedAzp);
    // Audit columns record email, else preferred_username, else sub (SPEC §3): one must be there.
    const principal = principalOf(record);
    if (principal.actor === '') throw unauthenticated('token names no user');
    // exp (required, a number: fast-jwt checked it) bounds the cache entry.
    verified.set(token, principal, Number(record.exp) * 1000 + clockToleranceMs);
    return principal;
  }

  return {
    mode: 'jwksUrl' in mode ? 'jwks' : 'dev',
    async verify(token) {
      const known = verified.get(token);
      if (known !== undefined) return known;
      // Many requests carrying one new token at once (a client opening streams) share one check.
      let pending = inFlight.get(token);
      if (pending === undefined) {
        pending = verifyOnce(token).finally(() => inFlight.delete(token));
        inFlight.set(token, pending);
      }
      return pending;
    },
    known: (token) => verified.get(token),
  };
}
