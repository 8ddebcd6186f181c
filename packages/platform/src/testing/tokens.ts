import { DEV_DEFAULT_SECRET, devTokenClaims, signDevToken } from '../auth/dev-token.js';
import type { Role } from '../auth/roles.js';

/** A system role, or `'none'`: a valid token that holds no system role. */
export type TestRole = Role | 'none';

/** Lifetime of test tokens: long enough for any test, and always present (verifiers require `exp`). */
const TEST_TOKEN_TTL_SEC = 3_600;

export interface TestTokenOptions {
  /** Scope patterns, sent as the claim `k1s0_namespaces` (SPEC §8); absent = unscoped. */
  scopes?: readonly string[];
}

/**
 * Bearer token (HS256 with the dev secret the services' test configs accept) for `role`, carrying
 * iat and exp. The email doubles as the actor the services record.
 */
export function tokenFor(
  role: TestRole = 'none',
  email = `${role}@example.com`,
  options: TestTokenOptions = {},
): string {
  return signDevToken(
    devTokenClaims({ roles: role === 'none' ? [] : [role], email, ...options }),
    DEV_DEFAULT_SECRET,
    TEST_TOKEN_TTL_SEC,
  );
}
