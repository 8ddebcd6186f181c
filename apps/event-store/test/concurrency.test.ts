import { randomUUID } from 'node:crypto';
import { waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppend } from './support/open-append.js';
import { type Harness, startHarness } from './support/service-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.stop();
});

const event = (i: number) => ({ event_type: 'Counted', payload: { i } });

function append(stream: string, body: unknown) {
  return h.call('POST', `/api/v1/streams/${stream}/events`, { role: 'sys_operator', body });
}

function globalLog(fromSequence = 0) {
  return h.call('GET', `/api/v1/events?from_sequence=${fromSequence}&limit=1000`, { role: 'sys_auditor' });
}

describe('concurrent appends', () => {
  it('20 appends with the same expected_version: exactly one succeeds, the rest are VERSION_CONFLICT', async () => {
    expect((await append('race-1', { events: [event(0)], expected_version: 0 })).status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => append('race-1', { events: [event(i)], expected_version: 1 })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const r of results.filter((r) => r.status === 409)) {
      expect(r.body.error.code).toBe('SYS_EVSTORE_VERSION_CONFLICT');
      expect(r.body.error.details).toEqual([
        { field: 'expected_version', message: '1' },
        { field: 'actual_version', message: '2' },
      ]);
    }
    const read = await h.call('GET', '/api/v1/streams/race-1/events', { role: 'sys_auditor' });
    expect(read.body.current_version).toBe(2);
  });

  it('50 appends with -2 to one stream get versions exactly 1..50, in sequence order', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => append('race-any', { events: [event(i)], expected_version: -2 })),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const versions = results.map((r) => r.body.events[0].version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const read = await h.call('GET', '/api/v1/streams/race-any/events?page_size=200', {
      role: 'sys_auditor',
    });
    const stored: Array<{ version: number; sequence: number }> = read.body.events;
    expect(stored.map((e) => e.version)).toEqual(versions);
    const sequences = stored.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });

  it('concurrent identical retries store the events once and all answer the original result', async () => {
    const body = {
      events: [
        { ...event(1), event_id: randomUUID() },
        { ...event(2), event_id: randomUUID() },
      ],
      expected_version: 0,
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => append('race-retry', body)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    const [row] = await h.service.database.sql<{ n: string }[]>`
      select count(*)::text as n from event_store.events where stream_id = 'race-retry'`;
    expect(row!.n).toBe('2');
  });
});

describe('global log never skips a late commit (GET /api/v1/events)', () => {
  it('hides B while an earlier sequence A is uncommitted, then returns A before B', async () => {
    const before = await globalLog();
    const cursor: number = before.body.next_sequence;
    const held = await openAppend(h.service.database, 'ooo-a');
    const b = await append('ooo-b', { events: [event(1)], expected_version: 0 });
    expect(b.body.events[0].sequence).toBeGreaterThan(Number(held.sequence));

    const during = await globalLog(cursor);
    expect(during.body.events).toEqual([]);
    expect(during.body.next_sequence).toBe(cursor);
    await held.commit();
    const after = await globalLog(cursor);
    expect(after.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([
      Number(held.sequence),
      b.body.events[0].sequence,
    ]);
  });

  it('returns B exactly once when A rolls back', async () => {
    const cursor: number = (await globalLog()).body.next_sequence;
    const held = await openAppend(h.service.database, 'ooo-rolled');
    const b = await append('ooo-b2', { events: [event(1)], expected_version: 0 });
    expect((await globalLog(cursor)).body.events).toEqual([]);
    await held.rollback();
    await waitFor('B once A rolled back', async () => (await globalLog(cursor)).body.events.length > 0);
    const after = await globalLog(cursor);
    expect(after.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([
      b.body.events[0].sequence,
    ]);
    // Continuing from next_sequence yields nothing more: no duplicate.
    expect((await globalLog(after.body.next_sequence)).body.events).toEqual([]);
  });
});

describe('append-only at the database', () => {
  it('refuses plain-SQL UPDATE and DELETE of events', async () => {
    await expect(h.service.database.sql`update event_store.events set payload = '{}'::jsonb`).rejects.toThrow(
      /append-only/,
    );
    await expect(
      h.service.database.sql`delete from event_store.events where stream_id = 'race-1'`,
    ).rejects.toThrow(/append-only/);
  });
});
