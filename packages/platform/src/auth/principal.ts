/** The authenticated caller, derived from a verified token's claims. */
export interface Principal {
  subject: string;
  /** Who is recorded as created_by / updated_by / changed_by: email, else preferred_username, else sub. */
  actor: string;
  /** realm_access.roles ∪ every resource_access.<client>.roles. */
  roles: Set<string>;
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

/** Maps verified Keycloak-shaped claims to a principal; the verifier has ensured `actor` is not empty. */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const subject = nonEmptyString(claims.sub) ?? '';
  const roles = new Set(rolesOf(claims.realm_access));
  if (isRecord(claims.resource_access)) {
    for (const client of Object.values(claims.resource_access)) {
      for (const role of rolesOf(client)) roles.add(role);
    }
  }
  return {
    subject,
    actor: nonEmptyString(claims.email) ?? nonEmptyString(claims.preferred_username) ?? subject,
    roles,
    claims,
  };
}
