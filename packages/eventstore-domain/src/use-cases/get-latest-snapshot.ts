import { eventStoreErrors } from '../errors.js';
import type { Snapshot } from '../model/snapshot.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { assertStreamInScope, type CallerScopes } from '../rules/scope.js';
import { checkStreamId } from '../rules/stream-id.js';
import { Violations } from '../rules/violations.js';

export interface GetLatestSnapshotInput extends CallerScopes {
  streamId: string;
}

export interface GetLatestSnapshotDeps {
  snapshots: SnapshotStore;
}

/**
 * The snapshot with the highest version. Errors: VALIDATION_ERROR, SNAPSHOT_NOT_FOUND — also for a
 * stream that does not exist: 002 documents only SNAPSHOT_NOT_FOUND for this endpoint, and "no
 * snapshot for this stream" is true either way.
 */
export class GetLatestSnapshot {
  constructor(private readonly deps: GetLatestSnapshotDeps) {}

  async execute(input: GetLatestSnapshotInput): Promise<Snapshot> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    violations.throwIfAny();
    assertStreamInScope(input.scopes, input.streamId);

    const snapshot = await this.deps.snapshots.latest(input.streamId);
    if (snapshot !== null) return snapshot;
    throw eventStoreErrors.snapshotNotFound(input.streamId);
  }
}
