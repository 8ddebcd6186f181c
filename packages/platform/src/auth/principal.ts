/**
 * The authenticated caller, derived from a verified token's claims. A value: the verifier hands the
 * same principal to every request carrying the same token, so nothing may change one.
 */
export interface Principal {
  subject: string;
  /** Who is recorded as created_by / updated_by / changed_by: email, else preferred_username, else sub. */
  actor: string;
  /** realm_access.roles ∪ resource_access.<this service's client>.roles; other clients' roles are ignored. */
  roles: ReadonlySet<string>;
  /**
   * Namespace (config) or stream-id (event store) patterns the caller is limited to (SPEC §8);
   * undefined = unscoped. From the JWT claim `k1s0_namespaces`, or an API key's scopes.
   */
  scopes?: readonly string[];
  claims: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function rolesOf(access: unknown): string[] {
  if (!isRecord(access) || !Array.isArray(access.roles)) return [];
  return access.roles.filter((role): role is string => typeof role === 'string');
}

/**
 * `k1s0_namespaces` as scopes: absent = unscoped; a single string is one scope; anything else
 * present but malformed scopes the caller to nothing rather than to everything.
 */
function scopesOf(claim: unknown): { scopes?: readonly string[] } {
  if (claim === undefined || claim === null) return {};
  if (typeof claim === 'string') return { scopes: [claim] };
  if (!Array.isArray(claim)) return { scopes: [] };
  return { scopes: claim.filter((scope): scope is string => typeof scope === 'string') };
}

/**
 * Maps verified Keycloak-shaped claims to a principal; the verifier has ensured `actor` is not
 * empty. Roles come from the realm and from `resource_access[clientId]` only: a role another
 * client defines (any client may call one of its roles `sys_admin`) grants nothing here.
 */
export function principalFromClaims(claims: Record<string, unknown>, clientId?: string): Principal {
  const subject = nonEmptyString(claims.sub) ?? '';
  const roles = new Set(rolesOf(claims.realm_access));
  if (
    clientId !== undefined &&
    isRecord(claims.resource_access) &&
    Object.hasOwn(claims.resource_access, clientId)
  ) {
    for (const role of rolesOf(claims.resource_access[clientId])) roles.add(role);
  }
  return {
    subject,
    actor: nonEmptyString(claims.email) ?? nonEmptyString(claims.preferred_username) ?? subject,
    roles,
    ...scopesOf(claims.k1s0_namespaces),
    claims,
  };
}
