import { configErrors } from '../errors.js';
import type { ChangeLogRepository } from '../ports/change-log-repository.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { checkKey } from '../rules/key.js';
import { checkNamespace } from '../rules/namespace.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { Violations } from '../rules/validation.js';
import { checkValue } from '../rules/value.js';
import { checkExistingVersion, checkExpectedVersion } from '../rules/version.js';
import { type ConfigWriteResult, type PutConfigValueDeps, putConfigValue } from './put-config-value.js';

export interface RollbackConfigDeps extends PutConfigValueDeps {
  readonly changeLog: ChangeLogRepository;
  readonly rules: ConfigRules;
}

export interface RollbackConfigInput extends CallerScopes {
  readonly namespace: string;
  readonly key: string;
  /** The version whose value to restore. */
  readonly toVersion: number;
  /** Current version for optimistic locking, as in UpdateConfig (0 = restore a deleted key). */
  readonly version: number;
  readonly actor: string;
  /** The caller's request id (REST `X-Request-Id`, gRPC `x-request-id`): the event's correlation id; '' when none. */
  readonly requestId?: string | undefined;
}

/**
 * Writes the value the key had at `toVersion` as a NEW version (history is never rewritten), with
 * the same optimistic check and outcomes as UpdateConfig.
 *
 * Versions restart at 1 when a deleted key is created again, so `toVersion` is looked up in the
 * key's current lifetime (the entry's id), or — when the key is deleted — in its last lifetime.
 * A deleted key is restored only with `version: 0` (like a create; KEY_NOT_FOUND otherwise), and it
 * comes back as a new entry (new id, version 1, CREATED). The description is kept as it is ('' when
 * re-created). `toVersion` absent from the log → 404 VERSION_NOT_FOUND; a key that never existed →
 * 404 KEY_NOT_FOUND. The restored value must still satisfy today's value rules.
 */
export class RollbackConfig {
  constructor(private readonly deps: RollbackConfigDeps) {}

  async execute(input: RollbackConfigInput): Promise<ConfigWriteResult> {
    const { changeLog, rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkKey(violations, input.key);
    checkExistingVersion(violations, input.toVersion);
    checkExpectedVersion(violations, input.version);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);

    const lifetimeId = await this.lifetimeOf(input.namespace, input.key);
    if (lifetimeId === undefined) throw configErrors.keyNotFound();
    const target = await changeLog.findVersion(lifetimeId, input.toVersion);
    if (target === undefined || target.newValue === null) throw configErrors.versionNotFound(input.toVersion);
    const restored = new Violations();
    checkValue(restored, target.newValue, rules);
    restored.throwIfAny();

    return putConfigValue(
      this.deps,
      {
        namespace: input.namespace,
        key: input.key,
        value: target.newValue,
        expectedVersion: input.version,
        description: undefined,
        actor: input.actor,
        // Never clears the flag; restoring a value that was secret makes the entry secret again
        // (also when a deleted secret key comes back), so a rollback can't expose a secret.
        secret: target.secret ? true : undefined,
        mayClearSecret: false,
        metadata: undefined,
      },
      input.requestId ?? '',
    );
  }

  /** Entry id whose versions `toVersion` refers to: the live entry's, else the last deleted one's. */
  private async lifetimeOf(namespace: string, key: string): Promise<string | undefined> {
    const current = await this.deps.repository.find(namespace, key);
    if (current !== undefined) return current.id;
    const { changes } = await this.deps.changeLog.history(namespace, key, { offset: 0, limit: 1 });
    return changes[0]?.configEntryId;
  }
}
