import type {
  ConfigChange,
  ConfigEntry,
  ConfigWriter,
  PendingConfigChange,
  WriteResult,
} from '@k1s0/config-domain';
import {
  allocatePositions,
  type Database,
  enqueueOutbox,
  notifyAfterCommit,
  type Tx,
  withTransaction,
} from '@k1s0/platform';
import { and, eq } from 'drizzle-orm';
import { configChangedMessage } from '../events/config-changed-event.js';
import { CHANGE_CHANNEL } from '../feed/change-notification.js';
import { currentRequestId } from '../request-context.js';
import { changeToRow, entryToRow } from './rows.js';
import { configChangeLogs, configEntries, configOutbox, revisionLog } from './schema.js';

export interface PostgresConfigWriterOptions {
  /** Kafka topic of ConfigChangedEvent (`kafka.topic_changed`). */
  topic: string;
}

/** Thrown inside the transaction to roll it back when the compare-and-set matched no row. */
class CompareAndSetMissed extends Error {}

/**
 * ConfigWriter: each call is ONE transaction — revision (first write, ordered log) → entry row
 * (insert / CAS update / CAS delete) → change-log row → outbox row; after commit, a coalesced
 * wake-up NOTIFY for the change feeds of every instance.
 */
export class PostgresConfigWriter implements ConfigWriter {
  constructor(
    private readonly database: Database,
    private readonly options: PostgresConfigWriterOptions,
  ) {}

  insert(entry: ConfigEntry, change: PendingConfigChange): Promise<WriteResult> {
    return this.write(change, async (tx) => {
      const rows = await tx
        .insert(configEntries)
        .values(entryToRow(entry))
        .onConflictDoNothing({ target: [configEntries.namespace, configEntries.key] })
        .returning({ id: configEntries.id });
      return rows.length === 1;
    });
  }

  update(next: ConfigEntry, expectedVersion: number, change: PendingConfigChange): Promise<WriteResult> {
    return this.write(change, async (tx) => {
      const { id, createdAt, createdBy, ...changed } = entryToRow(next);
      const rows = await tx
        .update(configEntries)
        .set(changed)
        .where(and(eq(configEntries.id, id), eq(configEntries.version, expectedVersion)))
        .returning({ id: configEntries.id });
      return rows.length === 1;
    });
  }

  remove(current: ConfigEntry, change: PendingConfigChange): Promise<WriteResult> {
    return this.write(change, async (tx) => {
      const rows = await tx
        .delete(configEntries)
        .where(and(eq(configEntries.id, current.id), eq(configEntries.version, current.version)))
        .returning({ id: configEntries.id });
      return rows.length === 1;
    });
  }

  private async write(
    pending: PendingConfigChange,
    applyEntry: (tx: Tx) => Promise<boolean>,
  ): Promise<WriteResult> {
    try {
      const change = await withTransaction(this.database, async (tx) => {
        // First write: fixes the transaction id together with the revision (ordered log).
        const { txId, positions } = await allocatePositions(tx, revisionLog, 1);
        const revision = positions[0];
        if (revision === undefined) throw new Error('no revision allocated');
        if (!(await applyEntry(tx))) throw new CompareAndSetMissed();
        const committed: ConfigChange = { ...pending, revision };
        await tx.insert(configChangeLogs).values(changeToRow(committed, txId));
        await enqueueOutbox(
          tx,
          configOutbox,
          configChangedMessage(committed, this.options.topic, { correlationId: currentRequestId() }),
        );
        await notifyAfterCommit(tx, CHANGE_CHANNEL);
        return committed;
      });
      return { outcome: 'committed', change };
    } catch (error) {
      if (error instanceof CompareAndSetMissed) return { outcome: 'conflict' };
      throw error;
    }
  }
}
