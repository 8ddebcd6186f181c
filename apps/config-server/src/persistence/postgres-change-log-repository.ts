import type { ChangeHistory, ChangeLogRepository, ConfigChange, PageWindow } from '@k1s0/config-domain';
import { belowSafeHorizon, type Database, withTransaction } from '@k1s0/platform';
import { and, asc, count, desc, eq, gt, inArray, lte, max, type SQL, sql } from 'drizzle-orm';
import { changeFromRow } from './rows.js';
import { changeLogRetention, configChangeLogs } from './schema.js';
import { SecretValues } from './secret-values.js';

const RETENTION_ROW_ID = 1;

export interface CommittedChange {
  change: ConfigChange;
  /** Below the safe horizon: no change with a lower revision can still appear. */
  settled: boolean;
}

/** Rows whose writing transaction can no longer commit or roll back (ordered-log safe horizon). */
const settled = () => belowSafeHorizon(sql`${configChangeLogs.txId}`);

/** ChangeLogRepository over `config_server.config_change_logs`, plus retention. */
export class PostgresChangeLogRepository implements ChangeLogRepository {
  constructor(
    private readonly database: Database,
    /** Without a cipher (the default) secret rows can't be read: fails closed. */
    private readonly values: SecretValues = new SecretValues(undefined),
  ) {}

  async history(namespace: string, key: string, window: PageWindow): Promise<ChangeHistory> {
    const where = and(eq(configChangeLogs.namespace, namespace), eq(configChangeLogs.key, key));
    const [rows, totals] = await Promise.all([
      this.database.db
        .select()
        .from(configChangeLogs)
        .where(where)
        .orderBy(desc(configChangeLogs.revision))
        .limit(window.limit)
        .offset(window.offset),
      this.database.db.select({ total: count() }).from(configChangeLogs).where(where),
    ]);
    return { changes: rows.map((row) => changeFromRow(row, this.values)), total: totals[0]?.total ?? 0 };
  }

  async findVersion(configEntryId: string, version: number): Promise<ConfigChange | undefined> {
    const [row] = await this.database.db
      .select()
      .from(configChangeLogs)
      .where(and(eq(configChangeLogs.configEntryId, configEntryId), eq(configChangeLogs.newVersion, version)))
      .orderBy(desc(configChangeLogs.revision))
      .limit(1);
    return row === undefined ? undefined : changeFromRow(row, this.values);
  }

  /** Only settled rows: a change still in flight with a lower revision can never be skipped. */
  async changesAfter(
    afterRevision: bigint,
    namespaces: readonly string[],
    limit: number,
  ): Promise<ConfigChange[]> {
    const conditions: SQL[] = [gt(configChangeLogs.revision, afterRevision), settled()];
    if (namespaces.length > 0) conditions.push(inArray(configChangeLogs.namespace, [...namespaces]));
    const rows = await this.database.db
      .select()
      .from(configChangeLogs)
      .where(and(...conditions))
      .orderBy(asc(configChangeLogs.revision))
      .limit(limit);
    return rows.map((row) => changeFromRow(row, this.values));
  }

  /**
   * Every change committed after `afterRevision` (up to `limit`, by revision), each flagged whether
   * it is settled. For the change feed: it may invalidate caches for all of them at once, but only
   * deliver the settled ones. Allocation makes tx_id order equal revision order, so the settled
   * rows are a prefix of the result.
   */
  async committedAfter(afterRevision: bigint, limit: number): Promise<CommittedChange[]> {
    const rows = await this.database.db
      .select({ row: configChangeLogs, settled: sql<boolean>`${settled()}` })
      .from(configChangeLogs)
      .where(gt(configChangeLogs.revision, afterRevision))
      .orderBy(asc(configChangeLogs.revision))
      .limit(limit);
    return rows.map(({ row, settled }) => ({ change: changeFromRow(row, this.values), settled }));
  }

  async oldestRetainedRevision(): Promise<bigint> {
    const [row] = await this.database.db
      .select({ prunedThrough: changeLogRetention.prunedThroughRevision })
      .from(changeLogRetention)
      .where(eq(changeLogRetention.id, RETENTION_ROW_ID));
    return (row?.prunedThrough ?? 0n) + 1n;
  }

  /** Highest settled revision (0 when none): where a live follower of the log starts. */
  async latestSettledRevision(): Promise<bigint> {
    const [row] = await this.database.db
      .select({ latest: max(configChangeLogs.revision) })
      .from(configChangeLogs)
      .where(settled());
    return row?.latest ?? 0n;
  }

  /**
   * Deletes the settled prefix of the log whose changes are older than `before` and records the
   * highest pruned revision, so WatchConfig can tell a client its history is gone. Returns the
   * number of rows removed.
   */
  async prune(before: Date): Promise<number> {
    return withTransaction(this.database, async (tx) => {
      const [bound] = await tx
        .select({ through: max(configChangeLogs.revision) })
        .from(configChangeLogs)
        .where(and(sql`${configChangeLogs.changedAt} < ${before.toISOString()}`, settled()));
      const through = bound?.through;
      if (through === null || through === undefined) return 0;
      const removed = await tx
        .delete(configChangeLogs)
        .where(lte(configChangeLogs.revision, through))
        .returning({ revision: configChangeLogs.revision });
      await tx
        .insert(changeLogRetention)
        .values({ id: RETENTION_ROW_ID, prunedThroughRevision: through })
        .onConflictDoUpdate({
          target: changeLogRetention.id,
          set: {
            prunedThroughRevision: sql`greatest(${changeLogRetention.prunedThroughRevision}, excluded.pruned_through_revision)`,
          },
        });
      return removed.length;
    });
  }
}
