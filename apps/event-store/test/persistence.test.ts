import { randomUUID } from 'node:crypto';
import type { AppendRequest, PreparedEvent } from '@k1s0/eventstore-domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../src/persistence/postgres-event-store.js';
import { PostgresSnapshotStore } from '../src/persistence/postgres-snapshot-store.js';
import { type MigratedDatabase, migratedDatabase } from './support/migrated-database.js';

let db: MigratedDatabase;
let store: PostgresEventStore;
let snapshots: PostgresSnapshotStore;

beforeAll(async () => {
  db = await migratedDatabase();
  store = new PostgresEventStore(db.database);
  snapshots = new PostgresSnapshotStore(db.database);
});

afterAll(async () => {
  await db.close();
});

function prepared(eventType: string, payload: PreparedEvent['payload'] = { n: 1 }): PreparedEvent {
  return {
    eventId: randomUUID(),
    eventType,
    payload,
    metadata: { actor_id: 'u1', correlation_id: null, custom: 'kept' },
    occurredAt: new Date('2026-02-23T10:00:00.000Z'),
  };
}

function request(streamId: string, expectedVersion: number, events: PreparedEvent[]): AppendRequest {
  return { streamId, expectedVersion, events, aggregateType: 'order' };
}

describe('PostgresEventStore', () => {
  it('appends, reads back JSON exactly (including scalar payloads) and keeps the aggregate type', async () => {
    const outcome = await store.append(
      request('order-1', -1, [prepared('A', '123'), prepared('B', null), prepared('C', [1, { x: 'y' }])]),
    );
    expect(outcome.kind).toBe('appended');
    if (outcome.kind !== 'appended') return;
    expect(outcome.events.map((e) => [e.version, e.payload])).toEqual([
      [1, '123'],
      [2, null],
      [3, [1, { x: 'y' }]],
    ]);
    expect(outcome.events[0]?.metadata).toEqual({ actor_id: 'u1', correlation_id: null, custom: 'kept' });
    expect(outcome.events[0]?.occurredAt.toISOString()).toBe('2026-02-23T10:00:00.000Z');
    expect(outcome.events[1]!.sequence).toBeGreaterThan(outcome.events[0]!.sequence);
    const stream = await store.getStream('order-1');
    expect(stream).toMatchObject({ id: 'order-1', aggregateType: 'order', currentVersion: 3 });

    const page = await store.readStream('order-1', {
      fromVersion: 2,
      toVersion: undefined,
      eventType: undefined,
      offset: 0,
      limit: 10,
    });
    expect(page?.events.map((e) => e.version)).toEqual([2, 3]);
    expect(page?.total).toBe(2);
    expect((await store.readBySequence(outcome.events[2]!.sequence))?.payload).toEqual([1, { x: 'y' }]);
  });

  it('returns the decision unchanged and writes nothing on a conflict', async () => {
    await store.append(request('order-2', 0, [prepared('A')]));
    const outcome = await store.append(request('order-2', 0, [prepared('B')]));
    expect(outcome).toEqual({ kind: 'version_conflict', actualVersion: 1 });
    expect(await store.append(request('order-2', -1, [prepared('B')]))).toEqual({
      kind: 'stream_exists',
      actualVersion: 1,
    });
    expect((await store.getStream('order-2'))?.currentVersion).toBe(1);
  });

  it('recognises an exact retry by event ids', async () => {
    const events = [prepared('A'), prepared('B')];
    const first = await store.append(request('order-3', 0, events));
    const again = await store.append(request('order-3', 0, events));
    expect(again.kind).toBe('duplicate');
    if (first.kind !== 'appended' || again.kind !== 'duplicate') return;
    expect(again.events.map((e) => e.sequence)).toEqual(first.events.map((e) => e.sequence));
    expect(again.currentVersion).toBe(2);
  });

  it('reads the global log in sequence order with event-type filters and a moving cursor', async () => {
    const all = await store.readAll({ fromSequence: 0n, limit: 1000, eventTypes: [] });
    const sequences = all.events.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
    const onlyC = await store.readAll({ fromSequence: 0n, limit: 1000, eventTypes: ['C'] });
    expect(onlyC.events.map((e) => e.eventType)).toEqual(['C']);
    // The short filtered batch moves the cursor past everything it scanned.
    expect(onlyC.nextSequence).toBe(all.nextSequence);
    const firstTwo = await store.readAll({ fromSequence: 0n, limit: 2, eventTypes: [] });
    expect(firstTwo.nextSequence).toBe(firstTwo.events[1]!.sequence + 1n);
  });

  it('saves snapshots, returns the highest version, and reports a missing stream', async () => {
    const base = { streamId: 'order-1', aggregateType: 'Order', createdAt: new Date() };
    await snapshots.save({ ...base, id: 'snap_a', snapshotVersion: 2, state: { s: 2 } });
    await snapshots.save({ ...base, id: 'snap_b', snapshotVersion: 1, state: 'one' });
    expect(await snapshots.latest('order-1')).toMatchObject({
      id: 'snap_a',
      snapshotVersion: 2,
      state: { s: 2 },
    });
    expect(
      await snapshots.save({ ...base, streamId: 'nope', id: 'snap_c', snapshotVersion: 0, state: {} }),
    ).toEqual({ kind: 'stream_not_found' });
  });

  it('deletes a stream with its events and snapshots and records who did it', async () => {
    const deleted = await store.deleteStream('order-1', { actor: 'admin@example.com', at: new Date() });
    expect(deleted).toEqual({ deletedEvents: 3, deletedSnapshots: 2 });
    expect(await store.getStream('order-1')).toBeNull();
    expect(await store.deleteStream('order-1', { actor: 'x', at: new Date() })).toBeNull();
    const rows = await db.database.sql`
      select stream_id, deleted_by, deleted_events, deleted_snapshots, last_version
      from event_store.stream_deletions`;
    expect(rows).toEqual([
      {
        stream_id: 'order-1',
        deleted_by: 'admin@example.com',
        deleted_events: 3,
        deleted_snapshots: 2,
        last_version: '3',
      },
    ]);
    // The stream id can be used again from version 1.
    const outcome = await store.append(request('order-1', -1, [prepared('A')]));
    expect(outcome.kind === 'appended' && outcome.events[0]?.version).toBe(1);
  });

  it('rejects UPDATE, DELETE and TRUNCATE of events in plain SQL', async () => {
    await expect(db.database.sql`update event_store.events set event_type = 'X'`).rejects.toThrow(
      /append-only: UPDATE/,
    );
    await expect(db.database.sql`delete from event_store.events`).rejects.toThrow(/append-only: DELETE/);
    await expect(db.database.sql`truncate event_store.events cascade`).rejects.toThrow(
      /append-only: TRUNCATE/,
    );
    // A session that sets the flag without being the delete-stream transaction: still only within its own tx.
    await expect(
      db.database.sql.begin(async (tx) => {
        await tx`select set_config('event_store.allow_delete', 'on', true)`;
        await tx`update event_store.events set event_type = 'X'`;
      }),
    ).rejects.toThrow(/append-only: UPDATE/);
  });
});

describe('PostgresEventStore, two instances on one database (the one-statement append guesses versions)', () => {
  const versionsOf = (outcome: Awaited<ReturnType<PostgresEventStore['append']>>) =>
    outcome.kind === 'appended' ? outcome.events.map((e) => e.version) : outcome;

  it('decides from the real state when the other instance moved the stream', async () => {
    const a = new PostgresEventStore(db.database);
    const b = new PostgresEventStore(db.database);
    expect(versionsOf(await a.append(request('two-1', -1, [prepared('A')])))).toEqual([1]);
    expect(versionsOf(await a.append(request('two-1', 1, [prepared('A')])))).toEqual([2]);
    expect(versionsOf(await b.append(request('two-1', 2, [prepared('B'), prepared('B')])))).toEqual([3, 4]);
    // a still believes 2: its guess would accept expected 2, the database must not.
    expect(await a.append(request('two-1', 2, [prepared('A')]))).toEqual({
      kind: 'version_conflict',
      actualVersion: 4,
    });
    expect(versionsOf(await b.append(request('two-1', -2, [prepared('B')])))).toEqual([5]);
    expect(versionsOf(await a.append(request('two-1', -2, [prepared('A')])))).toEqual([6]);
    const page = await a.readStream('two-1', {
      fromVersion: 1,
      toVersion: undefined,
      eventType: undefined,
      offset: 0,
      limit: 100,
    });
    expect(page?.events.map((e) => [e.version, e.eventType])).toEqual([
      [1, 'A'],
      [2, 'A'],
      [3, 'B'],
      [4, 'B'],
      [5, 'B'],
      [6, 'A'],
    ]);
    expect(page?.stream.currentVersion).toBe(6);
  });

  it('answers an exact retry as a duplicate even when the guess would accept it (expected -2)', async () => {
    const a = new PostgresEventStore(db.database);
    const events = [prepared('A'), prepared('B')];
    const first = await a.append(request('two-2', -2, events));
    expect(versionsOf(first)).toEqual([1, 2]);
    const again = await a.append(request('two-2', -2, events));
    expect(again.kind).toBe('duplicate');
    expect(again.kind === 'duplicate' && again.events.map((e) => e.eventId)).toEqual(
      events.map((e) => e.eventId),
    );
    expect((await a.getStream('two-2'))?.currentVersion).toBe(2);
  });

  it('does not append to a stream the other instance deleted as if it still existed', async () => {
    const a = new PostgresEventStore(db.database);
    const b = new PostgresEventStore(db.database);
    expect(versionsOf(await a.append(request('two-3', -1, [prepared('A'), prepared('A')])))).toEqual([1, 2]);
    await b.deleteStream('two-3', { actor: 'admin@example.com', at: new Date() });
    // a's guess (version 2) would take expected 2; the stream is gone: a conflict against 0.
    expect(await a.append(request('two-3', 2, [prepared('A')]))).toEqual({
      kind: 'version_conflict',
      actualVersion: 0,
    });
    expect(versionsOf(await a.append(request('two-3', -2, [prepared('A')])))).toEqual([1]);
    // Deleted and re-created behind a's back with fewer events: no version may be skipped.
    expect(versionsOf(await a.append(request('two-3', -2, [prepared('A'), prepared('A')])))).toEqual([2, 3]);
    await b.deleteStream('two-3', { actor: 'admin@example.com', at: new Date() });
    expect(versionsOf(await b.append(request('two-3', -1, [prepared('B')])))).toEqual([1]);
    expect(versionsOf(await a.append(request('two-3', -2, [prepared('A')])))).toEqual([2]);
  });
});
