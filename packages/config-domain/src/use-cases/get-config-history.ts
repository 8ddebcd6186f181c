import { configErrors } from '../errors.js';
import type { ConfigChange } from '../model/config-change.js';
import { type PageInfo, pageInfo } from '../model/pagination.js';
import { changeFor } from '../model/secret.js';
import type { ChangeLogRepository } from '../ports/change-log-repository.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { checkKey } from '../rules/key.js';
import { checkNamespace } from '../rules/namespace.js';
import { type PageRequest, resolvePage } from '../rules/pagination.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { Violations } from '../rules/validation.js';

export interface GetConfigHistoryDeps {
  readonly repository: ConfigRepository;
  readonly changeLog: ChangeLogRepository;
  readonly rules: ConfigRules;
}

export interface GetConfigHistoryInput extends PageRequest, CallerScopes {
  readonly namespace: string;
  readonly key: string;
  /**
   * The caller may read secret values (SPEC §8: sys_operator and above); otherwise they are
   * REDACTED. Absent = false, so a caller that forgets to decide leaks nothing.
   */
  readonly revealSecrets?: boolean | undefined;
}

export interface ConfigHistory {
  /** Newest first. */
  readonly changes: ConfigChange[];
  readonly pagination: PageInfo;
}

/**
 * A page of a key's change log, newest first, also after the key was deleted.
 * KEY_NOT_FOUND only when the key has no logged change and does not exist; an existing key whose
 * history retention pruned gets an empty page instead.
 */
export class GetConfigHistory {
  constructor(private readonly deps: GetConfigHistoryDeps) {}

  async execute(input: GetConfigHistoryInput): Promise<ConfigHistory> {
    const { repository, changeLog, rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkKey(violations, input.key);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);
    const paging = new Violations();
    const page = resolvePage(paging, input);
    paging.throwIfAny();
    const { changes, total } = await changeLog.history(input.namespace, input.key, page);
    if (total === 0 && (await repository.find(input.namespace, input.key)) === undefined) {
      throw configErrors.keyNotFound();
    }
    const reveal = input.revealSecrets ?? false;
    return {
      changes: changes.map((change) => changeFor(change, reveal)),
      pagination: pageInfo(page.page, page.pageSize, total),
    };
  }
}
