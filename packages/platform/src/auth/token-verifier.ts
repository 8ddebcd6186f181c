import { type Algorithm, createDecoder, createVerifier, TOKEN_ERROR_CODES } from 'fast-jwt';
import { isAppError } from '../errors/index.js';
import { unauthenticated } from './auth-errors.js';
import { createJwksKeySource, type JwksKeySourceOptions, type TokenHeader } from './jwks-key-source.js';
import { type Principal, principalFromClaims } from './principal.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export interface AuthOptions {
  /** Production: verify RS256/ES256 against this JWKS. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Development only: HS256 shared secret, used when no jwksUrl is configured. */
  devSecret?: string;
  appEnv: string;
  clockToleranceSec?: number;
}

export interface TokenVerifier {
  readonly mode: 'jwks' | 'dev';
  /** Resolves the caller, or throws AppError('unauthenticated', UNAUTHORIZED) with a short reason. */
  verify(token: string): Promise<Principal>;
}

/** Tuning and clock hooks for the JWKS key source; tests use them, services keep the defaults. */
export type JwksTuning = Omit<JwksKeySourceOptions, 'jwksUrl'>;

const PRODUCTION_ENVS = new Set(['prod', 'production']);

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

function resolveMode(options: AuthOptions): { jwksUrl: string } | { devSecret: string } {
  if (options.jwksUrl) return { jwksUrl: options.jwksUrl };
  if (options.devSecret) {
    if (PRODUCTION_ENVS.has(options.appEnv)) {
      throw new Error(
        `auth: AUTH_DEV_SECRET (HS256 dev tokens) is refused when APP_ENV=${options.appEnv}; configure AUTH_JWKS_URL`,
      );
    }
    return { devSecret: options.devSecret };
  }
  throw new Error(
    'auth: no token verification configured; set AUTH_JWKS_URL (or AUTH_DEV_SECRET outside prod)',
  );
}

/**
 * The one token verifier shared by REST and gRPC. Throws at construction on a configuration that
 * must not start (dev secret in prod, or nothing configured).
 */
export function createTokenVerifier(options: AuthOptions, jwksTuning: JwksTuning = {}): TokenVerifier {
  const mode = resolveMode(options);
  const claimChecks = {
    ...(options.issuer ? { allowedIss: options.issuer } : {}),
    ...(options.audience ? { allowedAud: options.audience } : {}),
    clockTolerance: (options.clockToleranceSec ?? 0) * 1000,
    // fast-jwt skips checks of absent claims: a configured iss/aud must be present, and exp
    // whenever tokens come from an identity provider (Keycloak always sets it). Hand-minted dev
    // tokens may omit it, as jwt.sign without expiresIn does; they are refused in prod anyway.
    requiredClaims: [
      ...('jwksUrl' in mode ? ['exp'] : []),
      ...(options.issuer ? ['iss'] : []),
      ...(options.audience ? ['aud'] : []),
    ],
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
  const verified = new VerifiedTokenCache<Record<string, unknown>>({
    maxEntries: VERIFIED_TOKEN_CACHE_SIZE,
    ttlMs: VERIFIED_TOKEN_TTL_MS,
  });
  const clockToleranceMs = claimChecks.clockTolerance;
  const inFlight = new Map<string, Promise<Record<string, unknown>>>();

  /** Full verification; an accepted token's claims are remembered until min(exp, TTL). */
  async function verifyOnce(token: string): Promise<Record<string, unknown>> {
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
    // Audit columns record email, else preferred_username, else sub (SPEC §3): one must be there.
    if (principalFromClaims(record).actor === '') throw unauthenticated('token names no user');
    // exp bounds the cache entry; a dev token without exp is verified every time.
    if (typeof record.exp === 'number') verified.set(token, record, record.exp * 1000 + clockToleranceMs);
    return record;
  }

  return {
    mode: 'jwksUrl' in mode ? 'jwks' : 'dev',
    async verify(token) {
      const known = verified.get(token);
      if (known !== undefined) return principalFromClaims(known);
      // Many requests carrying one new token at once (a client opening streams) share one check.
      let pending = inFlight.get(token);
      if (pending === undefined) {
        pending = verifyOnce(token).finally(() => inFlight.delete(token));
        inFlight.set(token, pending);
      }
      return principalFromClaims(await pending);
    },
  };
}
