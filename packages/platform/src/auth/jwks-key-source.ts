import { createPublicKey, type JsonWebKey } from 'node:crypto';
import buildGetJwks from 'get-jwks';
import { unauthenticated } from './auth-errors.js';
import { UnknownKidLimiter } from './unknown-kid-limiter.js';

/** Asymmetric algorithms Keycloak signs with; pinned so HS/none tokens never reach key lookup. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;
type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

export interface JwksKeySourceOptions {
  jwksUrl: string;
  /** How long a fetched key is trusted before it is fetched again. Default 10 min. */
  cacheTtlMs?: number;
  /** See UnknownKidLimiter. Defaults: 10 s, 10 unknown kids per window. */
  unknownKidCooldownMs?: number;
  maxUnknownKidsPerWindow?: number;
  now?: () => number;
}

export interface TokenHeader {
  alg?: unknown;
  kid?: unknown;
}

function isPinned(alg: unknown): alg is JwksAlgorithm {
  return (JWKS_ALGORITHMS as readonly unknown[]).includes(alg);
}

// A JWK only verifies the algorithm family it was made for (RFC 7518 §3.1).
function fitsAlgorithm(jwk: JsonWebKey, alg: JwksAlgorithm): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  return alg === 'RS256' ? jwk.kty === 'RSA' : jwk.kty === 'EC' && jwk.crv === 'P-256';
}

/** get-jwks addresses a JWKS as domain + path; split the configured URL accordingly. */
function splitJwksUrl(jwksUrl: string): { domain: string; jwksPath: string } {
  const url = new URL(jwksUrl);
  const jwksPath = `${url.pathname}${url.search}`.replace(/^\/+/, '');
  if (jwksPath === '') throw new Error(`auth: jwksUrl must include the JWKS path, got ${jwksUrl}`);
  return { domain: `${url.origin}/`, jwksPath };
}

/**
 * Resolves a token header to the PEM public key that must have signed it, from a cached JWKS.
 * An unseen kid triggers a refetch (key rotation), rate-limited by UnknownKidLimiter.
 */
export function createJwksKeySource(options: JwksKeySourceOptions): (header: TokenHeader) => Promise<string> {
  const { domain, jwksPath } = splitJwksUrl(options.jwksUrl);
  const now = options.now ?? Date.now;
  const jwks = buildGetJwks({ jwksPath, ttl: options.cacheTtlMs ?? 600_000, max: 100 });
  const limiter = new UnknownKidLimiter({
    cooldownMs: options.unknownKidCooldownMs ?? 10_000,
    maxMissesPerWindow: options.maxUnknownKidsPerWindow ?? 10,
    now,
  });
  // Kids that once resolved are genuine; their refetches (cache expiry) are never rate-limited.
  const knownKeys = new Set<string>();
  const pemOf = new WeakMap<object, string>();

  return async (header) => {
    const { alg, kid } = header;
    if (!isPinned(alg)) throw unauthenticated('token algorithm not allowed');
    if (typeof kid !== 'string' || kid === '') throw unauthenticated('token has no key id');
    const cacheKey = jwks.generateCacheKey(alg, kid, domain);
    if (!knownKeys.has(cacheKey) && jwks.cache.get(cacheKey) === undefined && !limiter.mayLookUp(kid)) {
      throw unauthenticated('unknown signing key');
    }

    let jwk: JsonWebKey;
    try {
      jwk = await jwks.getJwk({ domain, alg, kid });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'JWK_NOT_FOUND') {
        limiter.recordMiss(kid);
        throw unauthenticated('unknown signing key', error);
      }
      throw unauthenticated('signing keys unavailable', error);
    }
    if (!fitsAlgorithm(jwk, alg)) throw unauthenticated('signing key does not match token algorithm');
    knownKeys.add(cacheKey);

    let pem = pemOf.get(jwk);
    if (pem === undefined) {
      pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      pemOf.set(jwk, pem);
    }
    return pem;
  };
}
