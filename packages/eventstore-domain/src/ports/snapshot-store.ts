import type { Snapshot } from '../model/snapshot.js';

export type SaveSnapshotOutcome = { kind: 'saved' } | { kind: 'stream_not_found' };

export interface SnapshotStore {
  /**
   * Inserts the snapshot. `stream_not_found` when the stream no longer exists (e.g. deleted since the
   * use case checked it; the foreign key catches it).
   */
  save(snapshot: Snapshot): Promise<SaveSnapshotOutcome>;

  /** The snapshot with the highest snapshotVersion (ties: the latest createdAt), or null when none. */
  latest(streamId: string): Promise<Snapshot | null>;
}
