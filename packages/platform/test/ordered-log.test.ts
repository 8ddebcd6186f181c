import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  belowSafeHorizon,
  createDatabase,
  type Database,
  orderedLogAllocFragment,
  orderedLogFunctionSql,
  type Tx,
  withTransaction,
} from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';

const spec = {
  schema: 'log_test',
  functionName: 'allocate_positions',
  sequence: 'log_test.rows_seq',
  lockKey: 4242,
};
let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 6 });
  await database.sql.unsafe(`
    create schema log_test;
    create sequence log_test.rows_seq;
    create table log_test.rows (seq bigint primary key, tx_id xid8 not null, label text not null);
    ${orderedLogFunctionSql(spec)}
  `);
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

/** Draws `count` positions as the services do: the log's function, as the transaction's first write. */
async function allocate(tx: Tx, count: number): Promise<{ txId: string; positions: bigint[] }> {
  const rows = await tx.execute<{ tx_id: string; seq: string }>(
    // Ordered by the bigint column, not the text alias (as text, '10' sorts before '9').
    sql`select a.tx_id::text as tx_id, a.seq::text as seq from log_test.allocate_positions(${count}::int) as a order by a.seq`,
  );
  return { txId: rows[0]!.tx_id, positions: rows.map((r) => BigInt(r.seq)) };
}

/**
 * Appends one row. With `hold`, the transaction stays open until it resolves; `onAllocated` is
 * called once its position is drawn (the moment a later writer may start).
 */
async function append(label: string, hold?: Promise<void>, onAllocated?: () => void): Promise<bigint> {
  return withTransaction(database, async (tx) => {
    const { txId, positions } = await allocate(tx, 1);
    const position = positions[0]!;
    await tx.execute(sql`insert into log_test.rows values (${position}, ${txId}::xid8, ${label})`);
    onAllocated?.();
    await hold;
    return position;
  });
}

async function readSafe(): Promise<string[]> {
  const rows = await database.db.execute<{ label: string }>(
    sql`select label from log_test.rows where ${belowSafeHorizon(sql.raw('tx_id'))} order by seq`,
  );
  return rows.map((r) => r.label);
}

describe('ordered log', () => {
  it('hides a later commit until an earlier position commits, then returns both in order', async () => {
    let releaseA!: () => void;
    const holdA = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let allocatedA!: () => void;
    const aAllocated = new Promise<void>((resolve) => {
      allocatedA = resolve;
    });
    const a = append('A', holdA, allocatedA);
    // B starts once A holds its position (or A failed, which the await below reports).
    await Promise.race([aAllocated, a]);
    const posB = await append('B');
    expect(await readSafe()).toEqual([]);
    releaseA();
    const posA = await a;
    expect(posA).toBeLessThan(posB);
    expect(await readSafe()).toEqual(['A', 'B']);
  });

  it('refuses to allocate after the transaction already wrote', async () => {
    await expect(
      withTransaction(database, async (tx) => {
        await tx.execute(sql`insert into log_test.rows values (-1, pg_current_xact_id(), 'early')`);
        await allocate(tx, 1);
      }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/first write/) } });
    // The session lock was not taken, so another writer still proceeds.
    await append('C');
    expect(await readSafe()).toContain('C');
  });

  it('returns several positions in numeric order across a digit boundary (9, 10, …)', async () => {
    const positions = await withTransaction(database, async (tx) => {
      const { positions } = await allocate(tx, 12);
      return positions;
    });
    expect(positions).toHaveLength(12);
    expect(positions).toEqual([...positions].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(positions.at(-1)! - positions[0]!).toBe(11n);
  });

  it('keeps tx order equal to position order under 16 concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 16 }, (_, i) => Promise.all([append(`w${i}a`), append(`w${i}b`)])),
    );
    const rows = await database.db.execute<{ tx: string }>(
      sql`select tx_id::text as tx from log_test.rows where label like 'w%' order by seq`,
    );
    const txIds = rows.map((r) => BigInt(r.tx));
    expect(txIds).toEqual([...txIds].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(rows).toHaveLength(32);
  });
});

describe('orderedLogAllocFragment', () => {
  it('draws count positions in one statement as (tx_id, seq, i): one transaction id, i numbering them in order', async () => {
    const q = database.sql;
    await q`create table if not exists log_test.fragment_rows (seq bigint primary key, tx_id xid8 not null, i int not null)`;
    const rows = await q<{ seq: string; tx_id: string; i: number }[]>`
      with alloc as materialized (
        ${orderedLogAllocFragment(q, spec, 3)}
      ), inserted as (
        insert into log_test.fragment_rows (seq, tx_id, i)
        select seq, tx_id, i from alloc
        returning seq, tx_id, i
      )
      select seq::text as seq, tx_id::text as tx_id, i from inserted order by seq`;
    expect(rows.map((r) => r.i)).toEqual([1, 2, 3]);
    expect(new Set(rows.map((r) => r.tx_id)).size).toBe(1);
    const positions = rows.map((r) => BigInt(r.seq));
    expect(positions[1]! - positions[0]!).toBeGreaterThan(0n);
    expect(positions[2]! - positions[1]!).toBeGreaterThan(0n);
  });

  it('is refused when it is not the first write of its transaction', async () => {
    const q = database.sql;
    await expect(
      q.begin(async (tx) => {
        await tx`insert into log_test.fragment_rows (seq, tx_id, i) values (-1, pg_current_xact_id(), 0)`;
        await tx`select * from (${orderedLogAllocFragment(tx, spec, 1)}) as alloc`;
      }),
    ).rejects.toThrow(/must be the first write/);
  });
});
