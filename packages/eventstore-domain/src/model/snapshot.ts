import type { JsonValue } from './json.js';

/** An aggregate's state as of one stream version (table `snapshots`). */
export interface Snapshot {
  /** `snap_<uuid>`. */
  id: string;
  streamId: string;
  /** The stream version the state corresponds to: 0 ≤ snapshotVersion ≤ stream's currentVersion. */
  snapshotVersion: number;
  aggregateType: string;
  state: JsonValue;
  createdAt: Date;
}
