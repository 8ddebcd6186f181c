import type {
  EventMetadata,
  JsonValue,
  SaveSnapshotOutcome,
  Snapshot,
  SnapshotStore,
} from '@k1s0/eventstore-domain';
import { type Database, sqlState, unavailableOrOriginal } from '@k1s0/platform';
import { desc, eq, type SQL, sql } from 'drizzle-orm';
import { snapshots } from './schema.js';

const FOREIGN_KEY_VIOLATION = '23503';

/** A JSON document as a jsonb literal, so JSON `null` stays a value rather than SQL NULL. */
function jsonb(value: JsonValue | EventMetadata): SQL {
  return sql`${JSON.stringify(value)}::jsonb`;
}

/**
 * The SnapshotStore port on PostgreSQL (table `event_store.snapshots`). Drizzle's query builder
 * only: an insert and one ordered select on one table need nothing it cannot express.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly database: Database) {}

  async save(snapshot: Snapshot): Promise<SaveSnapshotOutcome> {
    try {
      await this.database.db.insert(snapshots).values({
        id: snapshot.id,
        streamId: snapshot.streamId,
        snapshotVersion: snapshot.snapshotVersion,
        aggregateType: snapshot.aggregateType,
        state: jsonb(snapshot.state),
        createdAt: snapshot.createdAt,
      });
      return { kind: 'saved' };
    } catch (error) {
      // The stream was deleted between the use case's check and this insert.
      if (sqlState(error) === FOREIGN_KEY_VIOLATION) return { kind: 'stream_not_found' };
      throw unavailableOrOriginal(error);
    }
  }

  async latest(streamId: string): Promise<Snapshot | null> {
    try {
      const [row] = await this.database.db
        .select({
          id: snapshots.id,
          streamId: snapshots.streamId,
          snapshotVersion: snapshots.snapshotVersion,
          aggregateType: snapshots.aggregateType,
          state: sql<string>`${snapshots.state}::text`,
          createdAt: snapshots.createdAt,
        })
        .from(snapshots)
        .where(eq(snapshots.streamId, streamId))
        .orderBy(desc(snapshots.snapshotVersion), desc(snapshots.createdAt))
        .limit(1);
      if (!row) return null;
      return {
        ...row,
        snapshotVersion: Number(row.snapshotVersion),
        state: JSON.parse(row.state) as JsonValue,
      };
    } catch (error) {
      throw unavailableOrOriginal(error);
    }
  }
}
