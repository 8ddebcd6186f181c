import { configErrors } from '../errors.js';
import type { ConfigChange } from '../model/config-change.js';
import type { ConfigEntry } from '../model/config-entry.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigCache } from '../ports/config-cache.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigWriter } from '../ports/config-writer.js';
import type { IdGenerator } from '../ports/id-generator.js';
import { decidePut, type PutRequest, putRejectionError } from '../rules/write-decisions.js';
import { invalidateChangedConfig } from './invalidate-changed-config.js';
import { MAX_WRITE_ATTEMPTS } from './write-attempts.js';

export interface PutConfigValueDeps {
  readonly repository: ConfigRepository;
  readonly writer: ConfigWriter;
  readonly cache: ConfigCache;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export interface ConfigWriteResult {
  readonly entry: ConfigEntry;
  readonly change: ConfigChange;
  /** True when the key did not exist before (REST answers 201). */
  readonly created: boolean;
}

/** Shared write path of UpdateConfig and RollbackConfig: decide, write atomically, invalidate. */
export async function putConfigValue(
  deps: PutConfigValueDeps,
  request: PutRequest,
  /** The caller's request id, for the change's event (see ConfigWriter). */
  requestId: string,
): Promise<ConfigWriteResult> {
  let lastSeenVersion = 0;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const current = blindCreate(deps, request, attempt)
      ? undefined
      : await deps.repository.find(request.namespace, request.key);
    lastSeenVersion = current?.version ?? 0;
    const plan = decidePut(current, request, deps.clock.now(), () => deps.ids.newId());
    if (plan.kind !== 'insert' && plan.kind !== 'update') throw putRejectionError(plan);
    const result =
      plan.kind === 'insert'
        ? await deps.writer.insert(plan.entry, plan.change, requestId)
        : await deps.writer.update(plan.next, plan.expectedVersion, plan.change, requestId);
    if (result.outcome === 'committed') {
      invalidateChangedConfig(deps.cache, request.namespace, request.key);
      const entry = plan.kind === 'insert' ? plan.entry : plan.next;
      return { entry, change: result.change, created: plan.kind === 'insert' };
    }
  }
  throw configErrors.versionConflict(request.expectedVersion, lastSeenVersion);
}

/**
 * A create (version 0) of a key this process has not cached skips the first read: the insert is
 * conditional (a lost insert comes back as `conflict`), so assuming "absent" costs nothing when it
 * is right, and when it is wrong the next attempt reads the row and decides from it.
 */
function blindCreate(deps: PutConfigValueDeps, request: PutRequest, attempt: number): boolean {
  return (
    attempt === 0 &&
    request.expectedVersion === 0 &&
    deps.cache.getEntry(request.namespace, request.key) === undefined
  );
}
