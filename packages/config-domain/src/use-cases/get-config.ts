import { configErrors } from '../errors.js';
import type { ConfigEntry } from '../model/config-entry.js';
import { entryFor } from '../model/secret.js';
import { type ConfigCache, configCacheKey } from '../ports/config-cache.js';
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

/** A database read of one entry that callers missing the cache at the same time share. */
interface Load {
  /** The cache generation when it started: only callers that saw no invalidation since join it. */
  readonly generation: number;
  readonly entry: Promise<ConfigEntry | undefined>;
}

/**
 * One entry, from the cache when possible. KEY_NOT_FOUND when absent.
 *
 * Concurrent misses of one key share one read (single flight). When a hot key's cache slot expires
 * under load, every request in flight misses at once; each used to query on its own, and the
 * database pool opened a connection per query (after its idle timeout), each with a SCRAM
 * handshake whose PBKDF2 runs synchronously in postgres.js: a stall of the whole event loop of
 * up to ~250 ms once a TTL (issue 13, DECISIONS). A caller joins a read only if no invalidation
 * happened since it started, so a read after a committed write never gets a value read before it.
 */
export class GetConfig {
  private readonly loads = new Map<string, Load>();

  constructor(private readonly deps: GetConfigDeps) {}

  async execute(input: GetConfigInput): Promise<ConfigEntry> {
    const { cache, rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkKey(violations, input.key);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);

    const reveal = input.revealSecrets ?? false;
    // The cache holds what is stored (plaintext in memory); each answer is redacted for its caller.
    const cached = cache.getEntry(input.namespace, input.key);
    if (cached !== undefined) return entryFor(cached, reveal);

    const entry = await this.load(input.namespace, input.key);
    if (entry === undefined) throw configErrors.keyNotFound();
    return entryFor(entry, reveal);
  }

  private load(namespace: string, key: string): Promise<ConfigEntry | undefined> {
    const { repository, cache } = this.deps;
    const slot = configCacheKey(namespace, key);
    const generation = cache.generation();
    const running = this.loads.get(slot);
    if (running !== undefined && running.generation === generation) return running.entry;
    const entry = repository.find(namespace, key).then((found) => {
      if (found !== undefined && cache.generation() === generation) cache.setEntry(found);
      return found;
    });
    const load: Load = { generation, entry };
    this.loads.set(slot, load);
    const forget = () => {
      if (this.loads.get(slot) === load) this.loads.delete(slot);
    };
    entry.then(forget, forget);
    return entry;
  }
}
