import type { ConfigMetadata } from '../model/config-entry.js';
import type { ConfigValue } from '../model/json-value.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { checkDescription } from '../rules/description.js';
import { checkKey } from '../rules/key.js';
import { checkMetadata, normalizedMetadata } from '../rules/metadata.js';
import { checkNamespace } from '../rules/namespace.js';
import { assertNamespaceInScope, type CallerScopes } from '../rules/scope.js';
import { Violations } from '../rules/validation.js';
import { checkValue } from '../rules/value.js';
import { checkExpectedVersion } from '../rules/version.js';
import { type ConfigWriteResult, type PutConfigValueDeps, putConfigValue } from './put-config-value.js';

export interface UpdateConfigDeps extends PutConfigValueDeps {
  readonly rules: ConfigRules;
}

export interface UpdateConfigInput extends CallerScopes {
  readonly namespace: string;
  readonly key: string;
  /** Parsed JSON from the body (REST) or the decoded `value` bytes (gRPC); validated here. */
  readonly value: unknown;
  /** Current version for optimistic locking; 0 to create. */
  readonly version: number;
  /** `undefined` keeps the current description ('' on create). */
  readonly description?: string | undefined;
  /** From the caller's token (SPEC §3), never from the request body. */
  readonly actor: string;
  /** The caller's request id (REST `X-Request-Id`, gRPC `x-request-id`): the event's correlation id; '' when none. */
  readonly requestId?: string | undefined;
  /** SPEC §8: true = store encrypted, false = clear the flag (needs `mayClearSecret`), absent = keep. */
  readonly secret?: boolean | undefined;
  /** The caller holds the role that may clear the secret flag (sys_admin); false when absent. */
  readonly mayClearSecret?: boolean | undefined;
  /** SPEC §8 labels: a JSON object replaces the metadata (`{}` clears it); absent keeps it. */
  readonly metadata?: unknown;
}

/** PUT: create (version 0 → 1, `created`) or update (version → version + 1) under optimistic locking. */
export class UpdateConfig {
  constructor(private readonly deps: UpdateConfigDeps) {}

  async execute(input: UpdateConfigInput): Promise<ConfigWriteResult> {
    const { rules } = this.deps;
    const violations = new Violations();
    checkNamespace(violations, input.namespace, rules);
    checkKey(violations, input.key);
    checkValue(violations, input.value, rules);
    checkExpectedVersion(violations, input.version);
    checkDescription(violations, input.description, rules);
    checkMetadata(violations, input.metadata, rules);
    checkSecret(violations, input.secret);
    violations.throwIfAny();
    assertNamespaceInScope(input.scopes, input.namespace);
    return putConfigValue(
      this.deps,
      {
        namespace: input.namespace,
        key: input.key,
        value: input.value as ConfigValue, // checked by checkValue above
        expectedVersion: input.version,
        description: input.description,
        actor: input.actor,
        secret: input.secret,
        mayClearSecret: input.mayClearSecret ?? false,
        // checked by checkMetadata above
        metadata:
          input.metadata === undefined ? undefined : normalizedMetadata(input.metadata as ConfigMetadata),
      },
      input.requestId ?? '',
    );
  }
}

function checkSecret(violations: Violations, secret: unknown): void {
  if (secret !== undefined && typeof secret !== 'boolean') {
    violations.add('secret', 'secret は true か false で指定してください');
  }
}
