import { isStorableText } from '@k1s0/platform/errors';
import type { ConfigEntry } from '../model/config-entry.js';
import { type PageInfo, pageInfo } from '../model/pagination.js';
import { entryFor } from '../model/secret.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { KEY_MAX_LENGTH } from '../rules/key.js';
import { checkNamespace } from '../rules/namespace.js';
import { type PageRequest, resolvePage } from '../rules/pagination.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { unstorableTextMessage, Violations } from '../rules/validation.js';

export interface ListConfigsDeps {
  readonly repository: ConfigRepository;
  readonly rules: ConfigRules;
}

export interface ListConfigsInput extends PageRequest, CallerScopes {
  readonly namespace: string;
  /** Case-insensitive substring of the key; empty or absent = no filter. */
  readonly search?: string | undefined;
  /**
   * The caller may read secret values (SPEC §8: sys_operator and above); otherwise they are
   * REDACTED. Absent = false, so a caller that forgets to decide leaks nothing.
   */
  readonly revealSecrets?: boolean | undefined;
}

export interface ListConfigsResult {
  readonly entries: ConfigEntry[];
  readonly pagination: PageInfo;
}

/** A page of one namespace's entries, sorted by key. */
export class ListConfigs {
  constructor(private readonly deps: ListConfigsDeps) {}

  async execute(input: ListConfigsInput): Promise<ListConfigsResult> {
    const { repository, rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkSearch(violations, input.search);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);
    const paging = new Violations();
    const page = resolvePage(paging, input);
    paging.throwIfAny();
    const search = input.search === '' ? undefined : input.search;
    const { entries, total } = await repository.list(input.namespace, {
      offset: page.offset,
      limit: page.limit,
      search,
    });
    const reveal = input.revealSecrets ?? false;
    return {
      entries: entries.map((entry) => entryFor(entry, reveal)),
      pagination: pageInfo(page.page, page.pageSize, total),
    };
  }
}

/** A search longer than any key can't match; rejecting it keeps junk out of the query. */
function checkSearch(violations: Violations, search: unknown): void {
  if (search === undefined) return;
  if (typeof search !== 'string' || search.length > KEY_MAX_LENGTH) {
    violations.add('search', `search は ${KEY_MAX_LENGTH} 文字以下の文字列にしてください`);
  } else if (!isStorableText(search)) {
    violations.add('search', unstorableTextMessage('search'));
  }
}
