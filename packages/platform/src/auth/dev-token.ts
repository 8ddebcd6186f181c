import { createSigner } from 'fast-jwt';

/**
 * The public HS256 secret of development tokens: loadConfig's default when APP_ENV is dev or test.
 * In any other environment no dev secret is accepted (createTokenVerifier).
 */
export const DEV_DEFAULT_SECRET = 'k1s0-dev-secret-change-me';

export interface DevIdentity {
  roles?: readonly string[];
  email?: string;
  sub?: string;
  preferredUsername?: string;
  iss?: string;
  aud?: string | readonly string[];
  /** Scope patterns (SPEC §8), sent as the claim `k1s0_namespaces`; absent = unscoped. */
  scopes?: readonly string[];
}

/** Keycloak-shaped access-token claims (without iat/exp, which signDevToken adds). */
export function devTokenClaims(identity: DevIdentity): Record<string, unknown> {
  const sub = identity.sub ?? identity.email ?? 'dev-user';
  return {
    // What Keycloak puts in access tokens; the verifier refuses refresh/ID tokens by this claim.
    typ: 'Bearer',
    sub,
    ...(identity.email ? { email: identity.email } : {}),
    preferred_username: identity.preferredUsername ?? identity.email?.split('@')[0] ?? sub,
    realm_access: { roles: [...(identity.roles ?? [])] },
    ...(identity.iss ? { iss: identity.iss } : {}),
    ...(identity.aud ? { aud: typeof identity.aud === 'string' ? identity.aud : [...identity.aud] } : {}),
    ...(identity.scopes ? { k1s0_namespaces: [...identity.scopes] } : {}),
  };
}

/** Signs `claims` with HS256, adding iat and exp = iat + ttlSec. For local use and tests only. */
export function signDevToken(
  claims: Record<string, unknown>,
  secret: string = DEV_DEFAULT_SECRET,
  ttlSec = 3600,
): string {
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSec * 1000 })(claims);
}
