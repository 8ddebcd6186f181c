import type { AppError } from '@k1s0/platform/errors';
import { configErrors } from '../errors.js';
import type { PendingConfigChange } from '../model/config-change.js';
import type { ConfigEntry, ConfigMetadata } from '../model/config-entry.js';
import type { ConfigValue } from '../model/json-value.js';

/** A validated request to set a key's value (PUT or rollback). */
export interface PutRequest {
  readonly namespace: string;
  readonly key: string;
  readonly value: ConfigValue;
  /** The version the caller believes is current; 0 = "the key must not exist yet". */
  readonly expectedVersion: number;
  /** `undefined` keeps the current description ('' for a new key). */
  readonly description: string | undefined;
  readonly actor: string;
  /** `true` marks the entry secret, `false` clears the flag, `undefined` keeps it (false for a new key). */
  readonly secret: boolean | undefined;
  /** The caller may clear the secret flag (SPEC §8: sys_admin); decided at the edge from its roles. */
  readonly mayClearSecret: boolean;
  /** Replaces the entry's metadata (`null` = none); `undefined` keeps it (none for a new key). */
  readonly metadata: ConfigMetadata | null | undefined;
}

export type PutPlan =
  | { readonly kind: 'insert'; readonly entry: ConfigEntry; readonly change: PendingConfigChange }
  | {
      readonly kind: 'update';
      readonly next: ConfigEntry;
      readonly expectedVersion: number;
      readonly change: PendingConfigChange;
    };

/** Why a put is refused; `putRejectionError` is the error a client gets for it. */
export type PutRejection =
  | { readonly kind: 'key_not_found' }
  | { readonly kind: 'version_conflict'; readonly expectedVersion: number; readonly actualVersion: number }
  | { readonly kind: 'secret_clear_denied' };

/** What `decidePut` decides: a write to make, or a refusal (an outcome, not a throw, as `decideAppend`). */
export type PutDecision = PutPlan | PutRejection;

export function putRejectionError(rejection: PutRejection): AppError {
  switch (rejection.kind) {
    case 'key_not_found':
      return configErrors.keyNotFound();
    case 'version_conflict':
      return configErrors.versionConflict(rejection.expectedVersion, rejection.actualVersion);
    case 'secret_clear_denied':
      return configErrors.secretClearDenied();
  }
}

/**
 * SPEC §5 optimistic-locking table:
 *   absent  + version 0        → create with version 1
 *   present + version = current → update to version + 1
 *   present + other version    → VERSION_CONFLICT (expected vs current)
 *   absent  + version ≠ 0       → KEY_NOT_FOUND
 */
export function decidePut(
  current: ConfigEntry | undefined,
  request: PutRequest,
  now: Date,
  newId: () => string,
): PutDecision {
  if (current === undefined) {
    if (request.expectedVersion !== 0) return { kind: 'key_not_found' };
    const entry: ConfigEntry = {
      id: newId(),
      namespace: request.namespace,
      key: request.key,
      value: request.value,
      version: 1,
      description: request.description ?? '',
      createdBy: request.actor,
      updatedBy: request.actor,
      createdAt: now,
      updatedAt: now,
      secret: request.secret ?? false,
      metadata: request.metadata ?? null,
    };
    return { kind: 'insert', entry, change: changeOf(newId(), entry, undefined, entry, request.actor, now) };
  }
  if (current.secret && request.secret === false && !request.mayClearSecret) {
    return { kind: 'secret_clear_denied' };
  }
  if (request.expectedVersion !== current.version) {
    return {
      kind: 'version_conflict',
      expectedVersion: request.expectedVersion,
      actualVersion: current.version,
    };
  }
  const next: ConfigEntry = {
    ...current,
    value: request.value,
    secret: request.secret ?? current.secret,
    metadata: request.metadata === undefined ? current.metadata : request.metadata,
    version: current.version + 1,
    description: request.description ?? current.description,
    updatedBy: request.actor,
    updatedAt: now,
  };
  return {
    kind: 'update',
    next,
    expectedVersion: current.version,
    change: changeOf(newId(), next, current, next, request.actor, now),
  };
}

/** The DELETED change for removing `current`. */
export function deletionChange(
  current: ConfigEntry,
  changeId: string,
  actor: string,
  now: Date,
): PendingConfigChange {
  return changeOf(changeId, current, current, undefined, actor, now);
}

/** The log row describing `subject` going from `before` to `after` (either may be absent). */
function changeOf(
  id: string,
  subject: ConfigEntry,
  before: ConfigEntry | undefined,
  after: ConfigEntry | undefined,
  actor: string,
  now: Date,
): PendingConfigChange {
  return {
    id,
    configEntryId: subject.id,
    namespace: subject.namespace,
    key: subject.key,
    oldValue: before?.value ?? null,
    newValue: after?.value ?? null,
    oldVersion: before?.version ?? 0,
    newVersion: after?.version ?? 0,
    changeType: before === undefined ? 'CREATED' : after === undefined ? 'DELETED' : 'UPDATED',
    changedBy: actor,
    changedAt: now,
    // A value that was secret on either side stays protected in the log, also once the flag is cleared.
    secret: (before?.secret ?? false) || (after?.secret ?? false),
  };
}
