import { configErrors } from '../errors.js';
import type { ConfigEntry } from '../model/config-entry.js';
import { entryFor } from '../model/secret.js';
import type { ConfigCache } from '../ports/config-cache.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { checkKey } from '../rules/key.js';
import { checkNamespace } from '../rules/namespace.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { Violations } from '../rules/validation.js';

export interface GetConfigDeps {
  readonly repository: ConfigRepository;
  readonly cache: ConfigCache;
  readonly rules: ConfigRules;
}

export interface GetConfigInput extends CallerScopes {
  readonly namespace: string;
  readonly key: string;
  /**
   * The caller may read secret values (SPEC §8: sys_operator and above); otherwise they are
   * REDACTED. Absent = false, so a caller that forgets to decide leaks nothing.
   */
  readonly revealSecrets?: boolean | undefined;
}

/** One entry, from the cache when possible. KEY_NOT_FOUND when absent. */
export class GetConfig {
  constructor(private readonly deps: GetConfigDeps) {}

  async execute(input: GetConfigInput): Promise<ConfigEntry> {
    const { repository, cache, rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkKey(violations, input.key);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);

    const reveal = input.revealSecrets ?? false;
    // The cache holds what is stored (plaintext in memory); each answer is redacted for its caller.
    const cached = cache.getEntry(input.namespace, input.key);
    if (cached !== undefined) return entryFor(cached, reveal);

    const generation = cache.generation();
    const entry = await repository.find(input.namespace, input.key);
    if (entry === undefined) throw configErrors.keyNotFound();
    if (cache.generation() === generation) cache.setEntry(entry);
    return entryFor(entry, reveal);
  }
}
