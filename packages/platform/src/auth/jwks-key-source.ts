import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { z } from 'zod';
import { unauthenticated } from './auth-errors.js';

/** Asymmetric algorithms Keycloak signs with; pinned so HS/none tokens never reach key lookup. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'] as const;
type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

export interface JwksKeySourceOptions {
  jwksUrl: string;
  /** How long a fetched key set is used before it is fetched again. Default 10 min. */
  cacheTtlMs?: number;
  /**
   * Least time between two JWKS fetches that an unknown `kid` (or a failed fetch) may trigger.
   * A key the IdP rotated in is picked up at the latest this long after the previous fetch,
   * however many forged kids arrive meanwhile. Default 10 s.
   */
  refetchIntervalMs?: number;
  /**
   * The same least time while no key set has ever been fetched (the first fetch failed, e.g. it
   * timed out on a cold, loaded start). Every token is refused until a fetch succeeds, so waiting
   * the full `refetchIntervalMs` would lock out every caller for that long; fetches stay
   * single-flight, so the IdP still sees at most one request per this interval. Default 1 s.
   */
  coldRefetchIntervalMs?: number;
  /** Bound of one JWKS request, body included (AbortSignal.timeout). Default 5 s. */
  fetchTimeoutMs?: number;
  now?: () => number;
}

export interface TokenHeader {
  alg?: unknown;
  kid?: unknown;
}

/** A key of the set, ready for verification: the algorithm it may verify and its PEM. */
interface UsableKey {
  alg: JwksAlgorithm;
  pem: string;
}

interface KeySet {
  byKid: ReadonlyMap<string, readonly UsableKey[]>;
  fetchedAt: number;
}

// Only the members we read; the rest of each JWK is handed to createPublicKey as it came.
const jwksSchema = z.object({
  keys: z.array(
    z.looseObject({
      kid: z.string().optional(),
      kty: z.string(),
      use: z.string().optional(),
      alg: z.string().optional(),
      crv: z.string().optional(),
    }),
  ),
});

function isPinned(alg: unknown): alg is JwksAlgorithm {
  return (JWKS_ALGORITHMS as readonly unknown[]).includes(alg);
}

/** The pinned algorithm a JWK verifies, if any: by its type, and its `alg` when published (RFC 7518 §3.1). */
function algorithmOf(jwk: z.infer<typeof jwksSchema>['keys'][number]): JwksAlgorithm | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  const byType = jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
  if (byType === undefined || (jwk.alg !== undefined && jwk.alg !== byType)) return undefined;
  return byType;
}

function toKeySet(body: unknown, fetchedAt: number): KeySet {
  const parsed = jwksSchema.safeParse(body);
  if (!parsed.success) throw new Error('JWKS response is not a key set');
  const byKid = new Map<string, UsableKey[]>();
  for (const jwk of parsed.data.keys) {
    const alg = algorithmOf(jwk);
    if (jwk.kid === undefined || alg === undefined) continue;
    let pem: string;
    try {
      pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
    } catch {
      continue; // a malformed key cannot verify anything; the others still can
    }
    byKid.set(jwk.kid, [...(byKid.get(jwk.kid) ?? []), { alg, pem }]);
  }
  return { byKid, fetchedAt };
}

/**
 * Resolves a token header to the PEM public key that must have signed it, from the identity
 * provider's JWKS (SPEC §3), keeping the whole key set of the last fetch.
 *
 * Fetches are single-flight (concurrent callers share the one in flight) and an unknown kid
 * starts one only when `refetchIntervalMs` has passed since the previous fetch started — decided
 * before fetching, so a flood of forged kids costs the IdP at most one request per interval.
 * A kid of the last fetched set is always served without a fetch, so forged kids can never lock
 * out a real key, and a rotated-in key arrives with the next fetch that any unknown kid triggers.
 * A failed refresh keeps the last good set (the IdP being down must not reject valid tokens).
 */
export function createJwksKeySource(options: JwksKeySourceOptions): (header: TokenHeader) => Promise<string> {
  const url = new URL(options.jwksUrl);
  const now = options.now ?? Date.now;
  const cacheTtlMs = options.cacheTtlMs ?? 600_000;
  const refetchIntervalMs = options.refetchIntervalMs ?? 10_000;
  const coldRefetchIntervalMs = Math.min(options.coldRefetchIntervalMs ?? 1_000, refetchIntervalMs);
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
  let keySet: KeySet | undefined;
  let lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  async function fetchKeySet(): Promise<void> {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(fetchTimeoutMs),
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`JWKS request answered ${response.status}`);
    keySet = toKeySet(await response.json(), now());
  }

  /** Joins the fetch in flight, else starts one if `allowed`; resolves once no fetch is pending. */
  async function refresh(allowed: boolean): Promise<unknown> {
    if (inFlight === undefined) {
      if (!allowed) return undefined;
      lastFetchStartedAt = now();
      inFlight = fetchKeySet().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight.then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  const mayRefetch = () =>
    now() - lastFetchStartedAt >= (keySet === undefined ? coldRefetchIntervalMs : refetchIntervalMs);

  return async (header) => {
    const { alg, kid } = header;
    if (!isPinned(alg)) throw unauthenticated('token algorithm not allowed');
    if (typeof kid !== 'string' || kid === '') throw unauthenticated('token has no key id');

    let failure: unknown;
    // Expired (or never fetched): refresh, but keep using the old set if that fails.
    if (keySet === undefined || now() - keySet.fetchedAt >= cacheTtlMs) failure = await refresh(mayRefetch());
    if (keySet === undefined) throw unauthenticated('signing keys unavailable', failure);

    let candidates = keySet.byKid.get(kid);
    if (candidates === undefined) {
      failure = await refresh(mayRefetch());
      candidates = keySet.byKid.get(kid);
      if (candidates === undefined) throw unauthenticated('unknown signing key', failure);
    }
    const key = candidates.find((candidate) => candidate.alg === alg);
    if (key === undefined) throw unauthenticated('signing key does not match token algorithm');
    return key.pem;
  };
}
