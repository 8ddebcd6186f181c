/**
 * Access scopes (SPEC §8): the patterns a caller is limited to — config namespaces on the config
 * server, stream ids on the event store, in the same form. Pure (imports nothing), so the domain
 * packages use it as the one implementation of the rule.
 *
 * - `a.b.c` matches exactly `a.b.c`;
 * - `a.b.*` matches every name that starts with `a.b.` (the dot included) and goes on after it:
 *   `a.b.c`, `a.b.c.d`, but neither `a.b` itself nor `a.bc`.
 *
 * No other character is special: a `*` anywhere else is a literal (and so matches no valid
 * namespace or stream id), which keeps a pattern from granting more than it visibly says.
 */

/** The caller's scope patterns; `undefined` = unscoped (everything), `[]` = nothing. */
export type Scopes = readonly string[] | undefined;

const WILDCARD_SUFFIX = '.*';

/** Whether one pattern covers `name`. */
export function scopeMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith(WILDCARD_SUFFIX)) {
    const prefix = pattern.slice(0, -1); // keeps the dot: `a.b.*` → `a.b.`
    return name.length > prefix.length && name.startsWith(prefix);
  }
  return name === pattern;
}

/** Whether a caller with `scopes` may reach `name`; unscoped callers reach everything. */
export function inScope(scopes: Scopes, name: string): boolean {
  return scopes === undefined || scopes.some((pattern) => scopeMatches(pattern, name));
}
