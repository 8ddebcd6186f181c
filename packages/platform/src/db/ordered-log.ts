import { sql } from 'drizzle-orm';
import { customType } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';

/**
 * A log that readers can follow by position without ever skipping a row that commits late.
 *
 * Positions come from a sequence, and sequences hand out numbers in call order, not commit
 * order: a transaction holding position 10 may commit after one holding 11. Readers therefore
 * only read rows whose writing transaction is below the oldest transaction still running
 * (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`): every row below that horizon is final.
 *
 * That alone guarantees no skip when readers order and checkpoint by (tx_id, position). To also
 * make positions themselves increase in that order, writers draw their positions through
 * `<schema>.<function>(n)`, which takes the transaction id and the positions together under a
 * short session lock (released before it returns, not held until commit). It must be the
 * transaction's first write, so that no earlier write has already fixed its transaction id.
 * Then tx_id order == position order, and a reader may checkpoint on the position alone.
 */
export interface OrderedLogSpec {
  schema: string;
  /** Function created by the migration, e.g. `allocate_positions`. */
  functionName: string;
  /** Sequence that numbers the log, e.g. `event_store.events_sequence_seq`. */
  sequence: string;
  /** Advisory lock key for the allocation critical section; unique per log. */
  lockKey: number;
}

/** SQL of the allocation function, pasted into a drizzle-kit custom migration. */
export function orderedLogFunctionSql(spec: OrderedLogSpec): string {
  return `CREATE OR REPLACE FUNCTION "${spec.schema}"."${spec.functionName}"(n integer)
RETURNS TABLE (tx_id xid8, seq bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION '${spec.functionName} must be the first write of its transaction';
  END IF;
  PERFORM pg_advisory_lock(${spec.lockKey});
  BEGIN
    RETURN QUERY SELECT pg_current_xact_id(), nextval('${spec.sequence}') FROM generate_series(1, n);
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_advisory_unlock(${spec.lockKey});
    RAISE;
  END;
  PERFORM pg_advisory_unlock(${spec.lockKey});
END
$$;`;
}

/**
 * A draw of `count` positions as a postgres.js statement fragment, for writers that put a whole
 * change in ONE statement (data-modifying CTEs), like `outboxInsertFragment`: the body of
 * `with alloc as materialized (…)`, rows (tx_id, seq, i) with `i` numbering the positions 1…count
 * in order. Every write of the statement must read a row of `alloc` first, so that the function runs
 * before any of them, as the transaction's first write (it raises otherwise).
 */
export function orderedLogAllocFragment(
  sql: postgres.Sql | postgres.TransactionSql,
  spec: OrderedLogSpec,
  count: number,
): postgres.PendingQuery<postgres.Row[]> {
  return sql`select tx_id, seq, row_number() over (order by seq) as i
    from ${sql(spec.schema)}.${sql(spec.functionName)}(${count}::int)`;
}

/** Predicate on a row's `tx_id` column: true when its transaction can no longer change. */
export function belowSafeHorizon(txIdColumn: ReturnType<typeof sql.identifier> | ReturnType<typeof sql.raw>) {
  return sql`${txIdColumn} < pg_snapshot_xmin(pg_current_snapshot())`;
}

/** Column type of an ordered log's `tx_id`: PostgreSQL `xid8`, exchanged as its decimal text. */
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });
