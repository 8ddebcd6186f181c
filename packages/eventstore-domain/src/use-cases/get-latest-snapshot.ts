import type { Snapshot } from '../model/snapshot.js';
import type { EventStore } from '../ports/event-store.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { snapshotNotFound, streamNotFound } from '../rules/errors.js';
import { checkStreamId } from '../rules/stream-id.js';
import { Violations } from '../rules/violations.js';

export interface GetLatestSnapshotInput {
  streamId: string;
}

export interface GetLatestSnapshotDeps {
  events: EventStore;
  snapshots: SnapshotStore;
}

/** The snapshot with the highest version. Errors: VALIDATION_ERROR, STREAM_NOT_FOUND, SNAPSHOT_NOT_FOUND. */
export class GetLatestSnapshot {
  constructor(private readonly deps: GetLatestSnapshotDeps) {}

  async execute(input: GetLatestSnapshotInput): Promise<Snapshot> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    violations.throwIfAny();

    const snapshot = await this.deps.snapshots.latest(input.streamId);
    if (snapshot !== null) return snapshot;
    // Only a miss needs the stream lookup: snapshots are deleted with their stream.
    if ((await this.deps.events.getStream(input.streamId)) === null) throw streamNotFound(input.streamId);
    throw snapshotNotFound(input.streamId);
  }
}
