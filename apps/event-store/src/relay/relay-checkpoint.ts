import { type Database, unavailableOrOriginal } from '@k1s0/platform';
import { count, eq, gt, sql } from 'drizzle-orm';
import { events, relayCheckpoints } from '../persistence/schema.js';

/** Durable position of one global-log relay (table `event_store.relay_checkpoints`). */
export interface RelayCheckpoint {
  /** The last sequence handed to the publisher and acknowledged; 0n when the relay never ran. */
  load(): Promise<bigint>;
  /** Records `sequence` (and its event's transaction id) as acknowledged. */
  save(sequence: bigint): Promise<void>;
  /** Committed events after the checkpoint (the relay's lag), for the metrics scrape. */
  lag(): Promise<number>;
}

/** The checkpoint row of the Kafka relay of `topic` (what the relay uses unless told otherwise). */
export function kafkaCheckpointName(topic: string): string {
  return `kafka:${topic}`;
}

export function relayCheckpoint(database: Database, name: string): RelayCheckpoint {
  const { db } = database;
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw unavailableOrOriginal(error);
    }
  };
  const load = () =>
    guarded(async () => {
      const [row] = await db
        .select({ lastSequence: relayCheckpoints.lastSequence })
        .from(relayCheckpoints)
        .where(eq(relayCheckpoints.name, name));
      return row ? BigInt(row.lastSequence) : 0n;
    });
  return {
    load,
    save: (sequence) =>
      guarded(async () => {
        const txId = sql`(select ${events.txId} from ${events} where ${events.sequence} = ${sequence})`;
        await db
          .insert(relayCheckpoints)
          .values({ name, lastSequence: sequence, lastTxId: txId })
          .onConflictDoUpdate({
            target: relayCheckpoints.name,
            set: { lastSequence: sequence, lastTxId: txId, updatedAt: sql`now()` },
          });
      }),
    lag: () =>
      guarded(async () => {
        const last = await load();
        const [row] = await db.select({ n: count() }).from(events).where(gt(events.sequence, last));
        return row?.n ?? 0;
      }),
  };
}
