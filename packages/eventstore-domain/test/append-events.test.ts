import { beforeEach, describe, expect, it } from 'vitest';
import { EXPECT_ANY, EXPECT_NO_STREAM } from '../src/model/expected-version.js';
import type { NewEvent } from '../src/model/new-event.js';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { clientId, rejectionOf } from './helpers.js';

const placed: NewEvent = {
  eventType: 'OrderPlaced',
  payload: { order_id: 'order-001', total_amount: 3000 },
  metadata: { actor_id: 'user-001', correlation_id: 'corr_01', causation_id: null },
};

function events(count: number, firstId?: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    eventType: `Happened${i}`,
    payload: { i },
    ...(firstId === undefined ? {} : { eventId: clientId(firstId + i) }),
  }));
}

describe('AppendEvents', () => {
  let kit: InMemoryEventStoreKit;
  let append: AppendEvents;

  beforeEach(() => {
    kit = createInMemoryEventStore();
    append = new AppendEvents(kit);
  });

  describe('expected_version', () => {
    it('0 creates a missing stream with versions from 1 and global sequences', async () => {
      const result = await append.execute({
        streamId: 'order-order-001',
        expectedVersion: 0,
        events: [placed],
      });
      expect(result).toMatchObject({ streamId: 'order-order-001', currentVersion: 1, replayed: false });
      expect(result.events).toEqual([
        {
          streamId: 'order-order-001',
          sequence: 1n,
          eventId: '00000000-0000-4000-8000-000000000001',
          eventType: 'OrderPlaced',
          version: 1,
          payload: placed.payload,
          metadata: placed.metadata,
          occurredAt: kit.clock.now(),
          storedAt: kit.clock.now(),
        },
      ]);
      const second = await append.execute({
        streamId: 'order-order-002',
        expectedVersion: 0,
        events: events(2),
      });
      expect(second.events.map((e) => [e.version, e.sequence])).toEqual([
        [1, 2n],
        [2, 3n],
      ]);
    });

    it('n must equal the current version exactly, else VERSION_CONFLICT as in spec 002', async () => {
      await append.execute({ streamId: 'order-order-001', expectedVersion: 0, events: events(3) });
      const error = await rejectionOf(
        append.execute({ streamId: 'order-order-001', expectedVersion: 0, events: [placed] }),
      );
      expect(error.kind).toBe('conflict');
      expect(error.code).toBe('VERSION_CONFLICT');
      expect(error.message).toBe('version conflict for stream order-order-001: expected 0, actual 3');
      expect(error.details).toEqual([
        { field: 'expected_version', message: '0' },
        { field: 'actual_version', message: '3' },
      ]);
      const ok = await append.execute({ streamId: 'order-order-001', expectedVersion: 3, events: [placed] });
      expect(ok.currentVersion).toBe(4);
      expect(ok.events[0]?.version).toBe(4);
    });

    it('n > 0 on a missing stream is a conflict with actual 0', async () => {
      const error = await rejectionOf(
        append.execute({ streamId: 'nope', expectedVersion: 2, events: [placed] }),
      );
      expect(error.code).toBe('VERSION_CONFLICT');
      expect(error.message).toBe('version conflict for stream nope: expected 2, actual 0');
      expect(kit.tables.streams.size).toBe(0);
    });

    it('-1 creates a new stream, and fails with STREAM_ALREADY_EXISTS once it exists', async () => {
      const created = await append.execute({
        streamId: 'order-1',
        expectedVersion: EXPECT_NO_STREAM,
        events: [placed],
      });
      expect(created.currentVersion).toBe(1);
      const error = await rejectionOf(
        append.execute({ streamId: 'order-1', expectedVersion: EXPECT_NO_STREAM, events: [placed] }),
      );
      expect(error.kind).toBe('already_exists');
      expect(error.code).toBe('STREAM_ALREADY_EXISTS');
      expect(error.message).toBe('stream already exists: order-1');
      expect(error.details).toEqual([
        { field: 'expected_version', message: '-1' },
        { field: 'actual_version', message: '1' },
      ]);
    });

    it('-2 appends at whatever the current version is, creating the stream if needed', async () => {
      const first = await append.execute({ streamId: 's', expectedVersion: EXPECT_ANY, events: events(2) });
      const second = await append.execute({ streamId: 's', expectedVersion: EXPECT_ANY, events: events(1) });
      expect(first.currentVersion).toBe(2);
      expect(second.currentVersion).toBe(3);
      expect(second.events[0]?.version).toBe(3);
    });

    it.each([-3, -100, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
      'rejects %s',
      async (expectedVersion) => {
        const error = await rejectionOf(append.execute({ streamId: 's', expectedVersion, events: [placed] }));
        expect(error.kind).toBe('validation');
        expect(error.code).toBe('VALIDATION_ERROR');
        expect(error.details.map((d) => d.field)).toEqual(['expected_version']);
      },
    );
  });

  describe('batch', () => {
    it('needs at least one event', async () => {
      const error = await rejectionOf(append.execute({ streamId: 's', expectedVersion: 0, events: [] }));
      expect(error.details).toEqual([{ field: 'events', message: 'at least one event is required' }]);
    });

    it('takes up to max_events_per_append (100) events and refuses 101', async () => {
      const full = await append.execute({ streamId: 's', expectedVersion: 0, events: events(100) });
      expect(full.events).toHaveLength(100);
      expect(full.events.at(-1)?.version).toBe(100);
      const error = await rejectionOf(
        append.execute({ streamId: 't', expectedVersion: 0, events: events(101) }),
      );
      expect(error.details).toEqual([{ field: 'events', message: 'at most 100 events per append' }]);
      expect(kit.tables.streams.has('t')).toBe(false);
    });

    it('honours a configured limit', async () => {
      const small = new AppendEvents({ ...kit, limits: { maxEventsPerAppend: 2 } });
      await small.execute({ streamId: 's', expectedVersion: 0, events: events(2) });
      const error = await rejectionOf(
        small.execute({ streamId: 's', expectedVersion: 2, events: events(3) }),
      );
      expect(error.details[0]?.message).toBe('at most 2 events per append');
    });

    it('stores all events or none: one invalid event rejects the whole batch', async () => {
      const batch = [...events(3), { eventType: '', payload: 1 }];
      const error = await rejectionOf(append.execute({ streamId: 's', expectedVersion: 0, events: batch }));
      expect(error.details).toEqual([{ field: 'events[3].event_type', message: 'must not be empty' }]);
      expect(kit.tables.events).toHaveLength(0);
      expect(kit.tables.streams.size).toBe(0);
    });
  });

  describe('validation', () => {
    it('names every bad field at once', async () => {
      const error = await rejectionOf(
        append.execute({
          streamId: 'bad id!',
          expectedVersion: -5,
          aggregateType: ' ',
          events: [
            {
              eventId: 'not-a-uuid',
              eventType: 'x'.repeat(256),
              payload: undefined as never,
              metadata: { actor_id: 42 as never, correlation_id: null, causation_id: ['x'] as never },
              occurredAt: new Date('nonsense'),
            },
            { eventType: 'Ok', payload: {}, metadata: [] as never },
          ],
        }),
      );
      expect(error.kind).toBe('validation');
      expect(error.details).toEqual([
        { field: 'stream_id', message: 'must be 1-255 characters of [A-Za-z0-9_.:@-]' },
        {
          field: 'expected_version',
          message: 'must be a version >= 0, -1 (stream must not exist) or -2 (any)',
        },
        { field: 'aggregate_type', message: 'must not be empty' },
        { field: 'events[0].event_type', message: 'must be at most 255 characters' },
        { field: 'events[0].event_id', message: 'must be a UUID' },
        { field: 'events[0].payload', message: 'is required' },
        { field: 'events[0].occurred_at', message: 'must be a valid timestamp' },
        { field: 'events[0].metadata.actor_id', message: 'must be a string or null' },
        { field: 'events[0].metadata.causation_id', message: 'must be a string or null' },
        { field: 'events[1].metadata', message: 'must be a JSON object' },
      ]);
      expect(error.message).toContain('stream_id: must be 1-255 characters');
    });

    it('refuses an event id used twice in one request, in any letter case', async () => {
      const error = await rejectionOf(
        append.execute({
          streamId: 's',
          expectedVersion: 0,
          events: [
            { ...placed, eventId: clientId(1) },
            { ...placed, eventId: clientId(2) },
            { ...placed, eventId: clientId(1).toUpperCase() },
          ],
        }),
      );
      expect(error.details).toEqual([
        { field: 'events[2].event_id', message: 'duplicates events[0].event_id' },
      ]);
    });

    it('accepts stream ids of 1 and 255 characters from the allowed set', async () => {
      const long = `a${'b'.repeat(254)}`;
      await append.execute({ streamId: 'x', expectedVersion: 0, events: [placed] });
      await append.execute({ streamId: long, expectedVersion: 0, events: [placed] });
      await append.execute({ streamId: 'Tenant_1.order:42@eu-west', expectedVersion: 0, events: [placed] });
      const error = await rejectionOf(
        append.execute({ streamId: `${long}c`, expectedVersion: 0, events: [placed] }),
      );
      expect(error.details[0]?.field).toBe('stream_id');
    });
  });

  describe('defaults', () => {
    it('takes the aggregate type from the stream id up to the first dash', async () => {
      await append.execute({ streamId: 'order-order-001', expectedVersion: 0, events: [placed] });
      await append.execute({ streamId: 'plain', expectedVersion: 0, events: [placed] });
      expect(kit.tables.streams.get('order-order-001')?.aggregateType).toBe('order');
      expect(kit.tables.streams.get('plain')?.aggregateType).toBe('plain');
    });

    it('uses an explicit aggregate type when the append creates the stream, and keeps it afterwards', async () => {
      await append.execute({
        streamId: 'order-1',
        expectedVersion: 0,
        aggregateType: 'Order',
        events: [placed],
      });
      await append.execute({
        streamId: 'order-1',
        expectedVersion: 1,
        aggregateType: 'Other',
        events: [placed],
      });
      expect(kit.tables.streams.get('order-1')?.aggregateType).toBe('Order');
    });

    it('fills metadata with {} and occurred_at with now, keeps a given occurred_at and extra metadata keys', async () => {
      const occurredAt = new Date('2026-01-01T00:00:00.000Z');
      const result = await append.execute({
        streamId: 's',
        expectedVersion: 0,
        events: [
          { eventType: 'A', payload: null },
          { eventType: 'B', payload: [1], occurredAt, metadata: { tenant: 'abc' } },
        ],
      });
      expect(result.events[0]).toMatchObject({ metadata: {}, occurredAt: kit.clock.now(), payload: null });
      expect(result.events[1]).toMatchObject({ metadata: { tenant: 'abc' }, occurredAt });
    });

    it('stores client event ids in lower case', async () => {
      const result = await append.execute({
        streamId: 's',
        expectedVersion: 0,
        events: [{ ...placed, eventId: 'AAAAAAAA-AAAA-4AAA-8AAA-00000000000F' }],
      });
      expect(result.events[0]?.eventId).toBe('aaaaaaaa-aaaa-4aaa-8aaa-00000000000f');
    });
  });

  describe('idempotent retry', () => {
    it('returns the original result for the same ids and expected_version, storing nothing new', async () => {
      await append.execute({ streamId: 's', expectedVersion: 0, events: events(2, 100) });
      const original = await append.execute({ streamId: 's', expectedVersion: 2, events: events(3, 1) });
      await append.execute({ streamId: 's', expectedVersion: 5, events: events(1, 200) });
      kit.clock.advance(60_000);

      const retry = await append.execute({ streamId: 's', expectedVersion: 2, events: events(3, 1) });

      expect(retry).toEqual({ ...original, replayed: true });
      expect(retry.currentVersion).toBe(5);
      expect(kit.tables.events).toHaveLength(6);
      expect(kit.tables.streams.get('s')?.currentVersion).toBe(6);
    });

    it('recognises a retry whatever the letter case of the ids', async () => {
      const original = await append.execute({ streamId: 's', expectedVersion: 0, events: events(1, 7) });
      const retry = await append.execute({
        streamId: 's',
        expectedVersion: 0,
        events: [{ eventType: 'Happened0', payload: { i: 0 }, eventId: clientId(7).toUpperCase() }],
      });
      expect(retry.events).toEqual(original.events);
    });

    it('works for -1 (the retry does not see "already exists") and for -2', async () => {
      const created = await append.execute({ streamId: 'a', expectedVersion: -1, events: events(2, 1) });
      expect(await append.execute({ streamId: 'a', expectedVersion: -1, events: events(2, 1) })).toEqual({
        ...created,
        replayed: true,
      });
      await append.execute({ streamId: 'b', expectedVersion: 0, events: events(1, 10) });
      const any = await append.execute({ streamId: 'b', expectedVersion: -2, events: events(1, 11) });
      await append.execute({ streamId: 'b', expectedVersion: -2, events: events(1, 12) });
      expect(await append.execute({ streamId: 'b', expectedVersion: -2, events: events(1, 11) })).toEqual({
        ...any,
        replayed: true,
      });
    });

    it('refuses a partial overlap of ids with DUPLICATE_EVENT_ID and stores nothing', async () => {
      await append.execute({ streamId: 's', expectedVersion: 0, events: events(2, 1) });
      const error = await rejectionOf(
        append.execute({ streamId: 's', expectedVersion: 2, events: [...events(1, 50), ...events(1, 2)] }),
      );
      expect(error.kind).toBe('conflict');
      expect(error.code).toBe('DUPLICATE_EVENT_ID');
      expect(error.details).toEqual([
        { field: 'events[1].event_id', message: 'already stored at version 2' },
      ]);
      expect(kit.tables.events).toHaveLength(2);
    });

    it('refuses the same ids under another expected_version (not a retry of that append)', async () => {
      await append.execute({ streamId: 's', expectedVersion: 0, events: events(2, 1) });
      const error = await rejectionOf(
        append.execute({ streamId: 's', expectedVersion: 2, events: events(2, 1) }),
      );
      expect(error.code).toBe('DUPLICATE_EVENT_ID');
      expect(error.details[0]?.field).toBe('events[0].event_id');
    });

    it('treats an id of another stream as unrelated', async () => {
      await append.execute({ streamId: 'one', expectedVersion: 0, events: events(1, 1) });
      const other = await append.execute({ streamId: 'two', expectedVersion: 0, events: events(1, 1) });
      expect(other.replayed).toBe(false);
      expect(other.events[0]?.sequence).toBe(2n);
    });

    it('generates fresh ids for events without one, so their repeats are new events', async () => {
      await append.execute({ streamId: 's', expectedVersion: -2, events: [placed] });
      const again = await append.execute({ streamId: 's', expectedVersion: -2, events: [placed] });
      expect(again.replayed).toBe(false);
      expect(again.events[0]?.version).toBe(2);
      expect(new Set(kit.tables.events.map((e) => e.eventId)).size).toBe(2);
    });
  });
});
