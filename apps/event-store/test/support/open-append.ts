import { randomUUID } from 'node:crypto';
import type { Database } from '@k1s0/platform';

export interface OpenAppend {
  /** The sequence allocated to the held event. */
  sequence: bigint;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * Appends one event in a raw postgres.js transaction that stays open: it draws its sequence through
 * `event_store.allocate_sequences` exactly like the adapter (first write), inserts stream + event and
 * notifies, then waits for commit() or rollback(). Lets tests commit out of sequence order.
 */
export async function openAppend(
  database: Database,
  streamId: string,
  eventType = 'Held',
): Promise<OpenAppend> {
  let finish!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  let allocated!: (sequence: bigint) => void;
  const sequenceReady = new Promise<bigint>((resolve) => {
    allocated = resolve;
  });
  const rolledBack = new Error('rollback requested');
  const done = database.sql
    .begin(async (tx) => {
      const [row] = await tx<{ tx_id: string; seq: string }[]>`
        select tx_id::text as tx_id, seq::text as seq from event_store.allocate_sequences(1)`;
      await tx`
        insert into event_store.event_streams (id, aggregate_type, current_version)
        values (${streamId}, 'held', 1)`;
      await tx`
        insert into event_store.events (sequence, tx_id, stream_id, event_id, version, event_type, payload)
        values (${row!.seq}, ${row!.tx_id}::xid8, ${streamId}, ${randomUUID()}, 1, ${eventType}, '{}'::jsonb)`;
      await tx`select pg_notify('event_store_appended', '')`;
      allocated(BigInt(row!.seq));
      if (!(await decided)) throw rolledBack;
    })
    .catch((error: unknown) => {
      if (error !== rolledBack) throw error;
    });
  const sequence = await Promise.race([sequenceReady, done.then(() => -1n)]);
  return {
    sequence,
    async commit() {
      finish(true);
      await done;
    },
    async rollback() {
      finish(false);
      await done;
    },
  };
}
