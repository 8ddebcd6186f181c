import { configErrors } from '../errors.js';
import type { ConfigChange } from '../model/config-change.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigCache } from '../ports/config-cache.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigWriter } from '../ports/config-writer.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { checkKey } from '../rules/key.js';
import { checkNamespace } from '../rules/namespace.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { Violations } from '../rules/validation.js';
import { deletionChange } from '../rules/write-decisions.js';
import { invalidateChangedConfig } from './invalidate-changed-config.js';
import { MAX_WRITE_ATTEMPTS } from './write-attempts.js';

export interface DeleteConfigDeps {
  readonly repository: ConfigRepository;
  readonly writer: ConfigWriter;
  readonly cache: ConfigCache;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly rules: ConfigRules;
}

export interface DeleteConfigInput extends CallerScopes {
  readonly namespace: string;
  readonly key: string;
  readonly actor: string;
  /** The caller's request id (REST `X-Request-Id`, gRPC `x-request-id`): the event's correlation id; '' when none. */
  readonly requestId?: string | undefined;
}

/**
 * Deletes the entry and logs a DELETED change holding the value and version that were removed.
 * KEY_NOT_FOUND when absent (also when it disappears concurrently).
 */
export class DeleteConfig {
  constructor(private readonly deps: DeleteConfigDeps) {}

  async execute(input: DeleteConfigInput): Promise<ConfigChange> {
    const { repository, writer, cache, clock, ids, rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkKey(violations, input.key);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);
    // The DELETED log row must carry exactly what was removed, so the delete is a compare-and-set
    // on the version we read; when someone else changed the entry meanwhile, delete that instead.
    let firstSeenVersion: number | undefined;
    let lastSeenVersion = 0;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await repository.find(input.namespace, input.key);
      if (current === undefined) throw configErrors.keyNotFound();
      firstSeenVersion ??= current.version;
      lastSeenVersion = current.version;
      const result = await writer.remove(
        current,
        deletionChange(current, ids.newId(), input.actor, clock.now()),
        input.requestId ?? '',
      );
      if (result.outcome === 'committed') {
        invalidateChangedConfig(cache, input.namespace, input.key);
        return result.change;
      }
    }
    throw configErrors.versionConflict(firstSeenVersion ?? 0, lastSeenVersion);
  }
}
