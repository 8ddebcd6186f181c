import { configErrors } from '../errors.js';
import type { ConfigEntry } from '../model/config-entry.js';
import type { ConfigCache } from '../ports/config-cache.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { keyProblem } from '../rules/key.js';
import { namespaceProblem } from '../rules/namespace.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { assertValid } from '../rules/validation.js';

export interface GetConfigDeps {
  readonly repository: ConfigRepository;
  readonly cache: ConfigCache;
  readonly rules: ConfigRules;
}

export interface GetConfigInput extends CallerScopes {
  readonly namespace: string;
  readonly key: string;
}

/** One entry, from the cache when possible. KEY_NOT_FOUND when absent. */
export class GetConfig {
  constructor(private readonly deps: GetConfigDeps) {}

  async execute(input: GetConfigInput): Promise<ConfigEntry> {
    const { repository, cache, rules } = this.deps;
    assertValid(namespaceProblem(input.namespace, rules), keyProblem(input.key));
    assertNamespaceInScope(input.scopes, input.namespace);

    const cached = cache.getEntry(input.namespace, input.key);
    if (cached !== undefined) return cached;

    const generation = cache.generation();
    const entry = await repository.find(input.namespace, input.key);
    if (entry === undefined) throw configErrors.keyNotFound();
    if (cache.generation() === generation) cache.setEntry(entry);
    return entry;
  }
}
