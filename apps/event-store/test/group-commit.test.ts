import { randomUUID } from 'node:crypto';
import type { AppendOutcome, AppendRequest, PreparedEvent } from '@k1s0/eventstore-domain';
import { createDatabase, type Database } from '@k1s0/platform';
import { waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamLockKey } from '../src/persistence/append-batch.js';
import { PostgresEventStore } from '../src/persistence/postgres-event-store.js';
import { type MigratedDatabase, migratedDatabase } from './support/migrated-database.js';

let db: MigratedDatabase;
let store: PostgresEventStore;
/** A second pool on the same database: the test's own lock holder and observer. */
let observer: Database;

const oneInFlight = { maxCount: 256, maxBytes: 4 * 1024 * 1024, maxInFlight: 1 };

beforeAll(async () => {
  db = await migratedDatabase();
  store = new PostgresEventStore(db.database, oneInFlight);
  observer = createDatabase({ url: db.testDb.url, max: 4 });
});

afterAll(async () => {
  await observer.close(1);
  await db.close();
});

function event(n = 1, eventId: string = randomUUID()): PreparedEvent {
  return { eventId, eventType: 'Counted', payload: { n }, metadata: {}, occurredAt: new Date() };
}

function request(streamId: string, expectedVersion: number, events: PreparedEvent[]): AppendRequest {
  return { streamId, expectedVersion, events, aggregateType: 'counter' };
}

/** A session advisory lock on a stream's append key, held on its own connection until released. */
async function holdStreamLock(streamId: string): Promise<() => Promise<void>> {
  const conn = await observer.sql.reserve();
  await conn`select pg_advisory_lock(hashtextextended(${streamLockKey(streamId)}, 0))`;
  return async () => {
    await conn`select pg_advisory_unlock(hashtextextended(${streamLockKey(streamId)}, 0))`;
    conn.release();
  };
}

/** Backends of this database (other than the observer's) waiting on a lock. */
async function lockWaiters(): Promise<number[]> {
  const rows = await observer.sql<{ pid: number }[]>`
    select pid from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
  return rows.map((row) => row.pid);
}

/**
 * Appends `gated` as one batch: a lone append to a locked stream occupies the commit slot while
 * they queue, then the lock is released and they go together as the next batch.
 */
async function asOneBatch(
  gated: AppendRequest[],
  /** Runs while they are queued, before the batch starts. */
  whileQueued?: () => Promise<void>,
): Promise<PromiseSettledResult<AppendOutcome>[]> {
  const gate = `gate-${randomUUID()}`;
  const release = await holdStreamLock(gate);
  const first = store.append(request(gate, -2, [event()]));
  await waitFor('the gate append to wait for its lock', async () => (await lockWaiters()).length === 1);
  const results = Promise.allSettled(gated.map((r) => store.append(r)));
  expect(store.queuedAppends).toBe(gated.length);
  await whileQueued?.();
  await release();
  expect((await first).kind).toBe('appended');
  return results;
}

async function storedRows(streamId: string) {
  return observer.sql<{ version: string; event_id: string; tx_id: string; sequence: string }[]>`
    select version::text, event_id::text, tx_id::text, sequence::text from event_store.events
    where stream_id = ${streamId} order by events.version`;
}

function value(result: PromiseSettledResult<AppendOutcome> | undefined): AppendOutcome {
  if (result?.status !== 'fulfilled') throw new Error(`expected an outcome, got ${String(result)}`);
  return result.value;
}

describe('group commit of appends (real PostgreSQL)', () => {
  it('one batch mixing successes, conflicts, duplicates and an in-batch retry: one transaction, each its own outcome', async () => {
    const s = randomUUID().slice(0, 8);
    await store.append(request(`exist-${s}`, -1, [event(1), event(2)]));
    const retried = request(`dup-${s}`, -1, [event(1), event(2)]);
    await store.append(retried);
    const created = request(`new-${s}`, -1, [event(1)]);

    const results = await asOneBatch([
      created, // appended, creates the stream
      request(`exist-${s}`, 2, [event(3)]), // appended at 3
      request(`exist-${s}`, 2, [event(4)]), // conflict: the previous one of this batch moved it to 3
      retried, // exact retry → duplicate
      request(`exist-${s}`, -2, [event(5), event(6)]), // appended at 4..5
      request(`exist-${s}`, -1, [event(7)]), // stream exists
      request(`dup-${s}`, -2, [event(3, retried.events[1]!.eventId), event(4)]), // partial overlap
      created, // the batch itself is appending these ids: deferred, then a duplicate
      request(`new-${s}`, 1, [event(2)]), // sees the creation earlier in the batch
    ]);
    const outcomes = results.map(value);
    expect(outcomes.map((o) => o.kind)).toEqual([
      'appended',
      'appended',
      'version_conflict',
      'duplicate',
      'appended',
      'stream_exists',
      'event_id_conflict',
      'duplicate',
      'appended',
    ]);
    expect(outcomes[2]).toEqual({ kind: 'version_conflict', actualVersion: 3 });
    expect(outcomes[5]).toEqual({ kind: 'stream_exists', actualVersion: 5 });
    expect(outcomes[6]).toMatchObject({ kind: 'event_id_conflict', index: 0, storedVersion: 2 });
    const exist = await storedRows(`exist-${s}`);
    expect(exist.map((r) => r.version)).toEqual(['1', '2', '3', '4', '5']);
    const appendedNew = outcomes[0]!.kind === 'appended' ? outcomes[0]!.events : [];
    const replayed = outcomes[7]!.kind === 'duplicate' ? outcomes[7]!.events : [];
    expect(replayed).toEqual(appendedNew);
    expect((await storedRows(`new-${s}`)).map((r) => r.version)).toEqual(['1', '2']);
    expect(await storedRows(`dup-${s}`)).toHaveLength(2);

    // Everything the batch appended is one transaction, with increasing sequences in batch order.
    const txIds = new Set(
      [...exist.slice(2), ...(await storedRows(`new-${s}`)).slice(0, 1)].map((r) => r.tx_id),
    );
    expect(txIds.size).toBe(1);
    const sequences = [outcomes[0], outcomes[1], outcomes[4]].flatMap((o) =>
      o!.kind === 'appended' ? o!.events.map((e) => e.sequence) : [],
    );
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('streams whose version the instance knows go in one statement; a stream moved elsewhere is decided by the locked path', async () => {
    const s = randomUUID().slice(0, 8);
    const [a, b, c] = [`ka-${s}`, `kb-${s}`, `kc-${s}`];
    for (const id of [a, b, c]) await store.append(request(id, -1, [event()]));
    // Another instance moves c: this one still guesses version 1 for it.
    await new PostgresEventStore(db.database).append(request(c, 1, [event()]));

    const outcomes = (
      await asOneBatch([
        request(a, 1, [event(2)]), // appended at 2 (one statement)
        request(b, -2, [event(2), event(3)]), // appended at 2..3 (one statement)
        request(c, 1, [event(2)]), // the guess was stale: conflict at 2, decided from the real state
        request(a, -2, [event(3)]), // appended at 3, after the batch's earlier append to a
        request(c, -2, [event(3)]), // appended at 3 (locked path)
      ])
    ).map(value);
    expect(outcomes.map((o) => o.kind)).toEqual([
      'appended',
      'appended',
      'version_conflict',
      'appended',
      'appended',
    ]);
    expect(outcomes[2]).toEqual({ kind: 'version_conflict', actualVersion: 2 });
    const [rowsA, rowsB, rowsC] = await Promise.all([storedRows(a), storedRows(b), storedRows(c)]);
    expect(rowsA.map((r) => r.version)).toEqual(['1', '2', '3']);
    expect(rowsB.map((r) => r.version)).toEqual(['1', '2', '3']);
    expect(rowsC.map((r) => r.version)).toEqual(['1', '2', '3']);
    // a and b in one transaction (the statement), c's append in another (the locked path).
    const fast = new Set([...rowsA.slice(1), ...rowsB.slice(1)].map((r) => r.tx_id));
    expect(fast.size).toBe(1);
    expect(fast.has(rowsC[2]!.tx_id)).toBe(false);
    // Answers carry what was stored, in batch order.
    const answered = [outcomes[0], outcomes[1], outcomes[3]].flatMap((o) =>
      o!.kind === 'appended' ? o!.events.map((e) => `${e.streamId}@${e.version}`) : [],
    );
    expect(answered).toEqual([`${a}@2`, `${b}@2`, `${b}@3`, `${a}@3`]);
  });

  it('writers racing on a known stream: one statement appends the first, a snapshot rejects the rest, no stream lock', async () => {
    const stream = `race-${randomUUID().slice(0, 8)}`;
    expect((await store.append(request(stream, -1, [event(1)]))).kind).toBe('appended');
    let releaseStream: (() => Promise<void>) | undefined;
    try {
      const results = await asOneBatch(
        [1, 1, 1].map((expected, i) => request(stream, expected, [event(i + 2)])),
        // Held from here on: a locked transaction for this stream would wait for it.
        async () => {
          releaseStream = await holdStreamLock(stream);
        },
      );
      expect(results.map(value)).toMatchObject([
        { kind: 'appended', currentVersion: 2 },
        { kind: 'version_conflict', actualVersion: 2 },
        { kind: 'version_conflict', actualVersion: 2 },
      ]);
    } finally {
      await releaseStream?.();
    }
    expect((await storedRows(stream)).map((r) => r.version)).toEqual(['1', '2']);
  });

  it('an id already stored in a known stream: the one statement writes nothing, each request gets its own answer', async () => {
    const s = randomUUID().slice(0, 8);
    const [a, b] = [`ia-${s}`, `ib-${s}`];
    const first = request(a, -1, [event(1)]);
    await store.append(first);
    await store.append(request(b, -1, [event(1)]));
    const outcomes = (
      await asOneBatch([
        request(a, -2, [...first.events]), // an exact retry the guess would accept: a duplicate
        request(b, 1, [event(2)]), // appended at 2
      ])
    ).map(value);
    expect(outcomes.map((o) => o.kind)).toEqual(['duplicate', 'appended']);
    expect((await storedRows(a)).map((r) => r.version)).toEqual(['1']);
    expect((await storedRows(b)).map((r) => r.version)).toEqual(['1', '2']);
  });

  it('a request the database rejects fails alone; the rest of its batch commits', async () => {
    const s = randomUUID().slice(0, 8);
    const results = await asOneBatch([
      request(`ok1-${s}`, -1, [event()]),
      request(`ok2-${s}`, -1, [event()]),
      // Passes no domain validation on purpose (the use case would refuse it): the database does.
      request(`bad-${s}`, -1, [event(1, 'not-a-uuid')]),
      request(`ok3-${s}`, -2, [event()]),
      request(`ok1-${s}`, 1, [event()]),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => value(r).kind)).toEqual(
      Array(4).fill('appended'),
    );
    expect(await storedRows(`bad-${s}`)).toEqual([]);
    expect((await storedRows(`ok1-${s}`)).map((r) => r.version)).toEqual(['1', '2']);
    const [stream] = await observer.sql`select 1 from event_store.event_streams where id = ${`bad-${s}`}`;
    expect(stream).toBeUndefined();
  });

  it('a request the database rejects after the one statement committed others: they keep "appended", it fails alone', async () => {
    const s = randomUUID().slice(0, 8);
    const [a, c] = [`ca-${s}`, `cc-${s}`];
    for (const id of [a, c]) await store.append(request(id, -1, [event()]));
    const results = await asOneBatch([
      request(a, 1, [event(2)]), // one statement
      request(c, 1, [event(2)]), // one statement
      // Rejected by the database (not a uuid) in the locked step that follows, not by the statement.
      request(c, 1, [event(3, 'not-a-uuid')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(results.slice(0, 2).map((r) => value(r).kind)).toEqual(['appended', 'appended']);
    expect((await storedRows(c)).map((r) => r.version)).toEqual(['1', '2']);
  });

  it('two instances batching against one database: no deadlock, gap-free versions, tx order = sequence order', async () => {
    const s = randomUUID().slice(0, 8);
    const other = new PostgresEventStore(observer, oneInFlight);
    const streams = Array.from({ length: 6 }, (_, i) => `two-${s}-${i}`);
    const perInstance = 120;
    // Each instance walks the streams in the opposite direction: batches lock overlapping sets.
    const appends = [store, other].flatMap((instance, k) =>
      Array.from({ length: perInstance }, (_, i) => {
        const stream = streams[k === 0 ? i % streams.length : streams.length - 1 - (i % streams.length)]!;
        return instance.append(request(stream, -2, [event(i), event(i)]));
      }),
    );
    const outcomes = await Promise.all(appends);
    expect(outcomes.every((o) => o.kind === 'appended')).toBe(true);
    for (const stream of streams) {
      const rows = await storedRows(stream);
      expect(rows.map((r) => Number(r.version))).toEqual(
        Array.from({ length: rows.length }, (_, i) => i + 1),
      );
      const sequences = rows.map((r) => BigInt(r.sequence));
      expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
    }
    const total = await observer.sql<{ sequence: string; tx_id: string }[]>`
      select sequence::text, tx_id::text from event_store.events where stream_id like ${`two-${s}-%`}
      order by events.sequence`;
    expect(total).toHaveLength(2 * perInstance * 2);
    const txOrder = total.map((r) => BigInt(r.tx_id));
    expect(txOrder).toEqual([...txOrder].sort((a, b) => (a < b ? -1 : 1)));
    // Fewer transactions than requests: the instances did batch.
    expect(new Set(total.map((r) => r.tx_id)).size).toBeLessThan(2 * perInstance);
  });

  it('16 writers per instance on one hot stream with the version they last saw: successes = final version', async () => {
    const stream = `hot-${randomUUID().slice(0, 8)}`;
    const other = new PostgresEventStore(observer, oneInFlight);
    let successes = 0;
    const writer = async (instance: PostgresEventStore) => {
      let seen = 0;
      for (let i = 0; i < 15; i++) {
        const outcome = await instance.append(request(stream, seen, [event(i)]));
        if (outcome.kind === 'appended') {
          successes++;
          seen = outcome.currentVersion;
        } else if (outcome.kind === 'version_conflict') seen = outcome.actualVersion;
        else throw new Error(`unexpected ${outcome.kind}`);
      }
    };
    await Promise.all(
      [store, other].flatMap((instance) => Array.from({ length: 16 }, () => writer(instance))),
    );
    const rows = await storedRows(stream);
    expect(rows.map((r) => Number(r.version))).toEqual(Array.from({ length: successes }, (_, i) => i + 1));
  });

  it('writers this instance knows to be stale are answered from one snapshot read, without the stream lock', async () => {
    const stream = `stale-${randomUUID().slice(0, 8)}`;
    const first = request(stream, -1, [event(1), event(2)]);
    expect((await store.append(first)).kind).toBe('appended'); // this instance now knows version 2
    const release = await holdStreamLock(stream);
    try {
      // Answered while another transaction holds the stream's append lock: no locked transaction.
      expect(await store.append(request(stream, 1, [event(3)]))).toEqual({
        kind: 'version_conflict',
        actualVersion: 2,
      });
      expect(await store.append(request(stream, -1, [event(3)]))).toEqual({
        kind: 'stream_exists',
        actualVersion: 2,
      });
      const replay = await store.append(first);
      expect(replay.kind).toBe('duplicate');
      expect(replay.kind === 'duplicate' && replay.currentVersion).toBe(2);
    } finally {
      await release();
    }
    // Another instance moves the stream on: this one's guess (2) is stale, the snapshot is not,
    // so a request expecting the real version is appended through the locked path.
    const other = new PostgresEventStore(observer, oneInFlight);
    expect((await other.append(request(stream, 2, [event(3)]))).kind).toBe('appended');
    const results = await asOneBatch([
      request(stream, 2, [event(4)]), // stale everywhere: conflict at 3, from the snapshot
      request(stream, 3, [event(4)]), // appended at 4
      request(stream, 3, [event(5)]), // conflict at 4: decided after the append, under the lock
    ]);
    expect(results.map(value)).toMatchObject([
      { kind: 'version_conflict', actualVersion: 3 },
      { kind: 'appended', currentVersion: 4 },
      { kind: 'version_conflict', actualVersion: 4 },
    ]);
    expect((await storedRows(stream)).map((r) => r.version)).toEqual(['1', '2', '3', '4']);
  });

  it('connection killed while the batch waits for its stream locks: retried on another connection, all commit once', async () => {
    const s = randomUUID().slice(0, 8);
    const blocked = `blocked-${s}`;
    const releaseBlocked = await holdStreamLock(blocked);
    const resultsPromise = asOneBatch([
      request(`k1-${s}`, -1, [event()]),
      request(blocked, -1, [event(), event()]),
      request(`k2-${s}`, -2, [event()]),
    ]);
    let victim: number | undefined;
    await waitFor('the batch to wait on a lock', async () => {
      const waiters = await lockWaiters();
      victim = waiters[0];
      return waiters.length === 1 && store.queuedAppends === 0;
    });
    await observer.sql`select pg_terminate_backend(${victim!}::int)`;
    // The retry waits on the same lock from a new backend.
    await waitFor('the retry to wait on the lock', async () => {
      const waiters = await lockWaiters();
      return waiters.length === 1 && waiters[0] !== victim;
    });
    await releaseBlocked();
    const outcomes = (await resultsPromise).map(value);
    expect(outcomes.map((o) => o.kind)).toEqual(['appended', 'appended', 'appended']);
    expect((await storedRows(blocked)).map((r) => r.version)).toEqual(['1', '2']);
    expect(await storedRows(`k1-${s}`)).toHaveLength(1);
  });

  it('connection killed during the batch write (after deciding): nothing half-written, the retry appends', async () => {
    const s = randomUUID().slice(0, 8);
    const rowLocked = `rowlocked-${s}`;
    await store.append(request(rowLocked, -1, [event()]));
    // Holding the stream row blocks the batch's upsert inside its write statement.
    const holder = await observer.sql.reserve();
    await holder`begin`;
    await holder`select 1 from event_store.event_streams where id = ${rowLocked} for update`;
    const resultsPromise = asOneBatch([
      request(`w1-${s}`, -1, [event()]),
      request(rowLocked, 1, [event()]),
      request(`w2-${s}`, -1, [event()]),
    ]);
    let victim: number | undefined;
    await waitFor('the batch to wait on a lock', async () => {
      const waiters = await lockWaiters();
      victim = waiters[0];
      return waiters.length === 1 && store.queuedAppends === 0;
    });
    await observer.sql`select pg_terminate_backend(${victim!}::int)`;
    // Rolled back: the other streams were not created by the killed attempt.
    await waitFor('the retry to wait on the lock', async () => {
      const waiters = await lockWaiters();
      return waiters.length === 1 && waiters[0] !== victim;
    });
    expect(await storedRows(`w1-${s}`)).toEqual([]);
    await holder`commit`;
    holder.release();
    const outcomes = (await resultsPromise).map(value);
    expect(outcomes.map((o) => o.kind)).toEqual(['appended', 'appended', 'appended']);
    expect((await storedRows(rowLocked)).map((r) => r.version)).toEqual(['1', '2']);
    expect(await storedRows(`w2-${s}`)).toHaveLength(1);
  });
});
