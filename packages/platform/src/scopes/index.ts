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

/** The characters a scope may cover: config namespaces use a subset, stream ids all of them. */
const NAME = /^[A-Za-z0-9_.:@-]+$/;
const MAX_PATTERN_LENGTH = 255;

/**
 * Why `pattern` is not a scope in the SPEC §8 form (an exact name, or a prefix ending `.*`), or
 * undefined when it is. Checked when a pattern is granted (API key creation), so a key never
 * holds a pattern that silently matches nothing — e.g. `service.*.db`, `*`, `service.payment*`.
 */
export function scopePatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    return `a scope is 1–${MAX_PATTERN_LENGTH} characters`;
  }
  const name = pattern.endsWith(WILDCARD_SUFFIX) ? pattern.slice(0, -WILDCARD_SUFFIX.length) : pattern;
  if (name.length === 0 || !NAME.test(name) || name.endsWith('.')) {
    return 'a scope is an exact name (e.g. system.auth.database) or a prefix ending in .* (e.g. service.payment.*); * is allowed only as that last segment';
  }
  return undefined;
}
