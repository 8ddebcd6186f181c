import { beforeEach, describe, expect, it } from 'vitest';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { CreateSnapshot } from '../src/use-cases/create-snapshot.js';
import { GetLatestSnapshot } from '../src/use-cases/get-latest-snapshot.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { rejectionOf } from './helpers.js';

describe('snapshots', () => {
  let kit: InMemoryEventStoreKit;
  let create: CreateSnapshot;
  let latest: GetLatestSnapshot;

  beforeEach(async () => {
    kit = createInMemoryEventStore();
    create = new CreateSnapshot(kit);
    latest = new GetLatestSnapshot(kit);
    await new AppendEvents(kit).execute({
      streamId: 'order-order-001',
      expectedVersion: 0,
      events: [
        { eventType: 'OrderPlaced', payload: {} },
        { eventType: 'OrderShipped', payload: {} },
      ],
    });
  });

  describe('CreateSnapshot', () => {
    it('stores the state as of a version, with the given aggregate type', async () => {
      const state = { status: 'shipped', total_amount: 3000 };
      const snapshot = await create.execute({
        streamId: 'order-order-001',
        snapshotVersion: 2,
        aggregateType: 'Order',
        state,
      });
      expect(snapshot).toEqual({
        id: 'snap_00000000-0000-4000-8000-000000000003',
        streamId: 'order-order-001',
        snapshotVersion: 2,
        aggregateType: 'Order',
        state,
        createdAt: kit.clock.now(),
      });
      expect(kit.tables.snapshots).toEqual([snapshot]);
    });

    it("defaults the aggregate type to the stream's and accepts version 0", async () => {
      const snapshot = await create.execute({ streamId: 'order-order-001', snapshotVersion: 0, state: null });
      expect(snapshot.aggregateType).toBe('order');
      expect(snapshot.snapshotVersion).toBe(0);
    });

    it('refuses a version above the current one', async () => {
      const error = await rejectionOf(
        create.execute({ streamId: 'order-order-001', snapshotVersion: 3, state: {} }),
      );
      expect(error.kind).toBe('validation');
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details).toEqual([
        { field: 'snapshot_version', message: "must be between 0 and 2 (the stream's current version)" },
      ]);
      expect(kit.tables.snapshots).toEqual([]);
    });

    it('refuses malformed input, naming each field', async () => {
      const error = await rejectionOf(
        create.execute({
          streamId: 'a b',
          snapshotVersion: -1,
          aggregateType: '',
          state: undefined as never,
        }),
      );
      expect(error.details.map((d) => d.field)).toEqual([
        'stream_id',
        'snapshot_version',
        'aggregate_type',
        'state',
      ]);
    });

    it('reports a missing stream as STREAM_NOT_FOUND', async () => {
      const error = await rejectionOf(create.execute({ streamId: 'order-x', snapshotVersion: 0, state: {} }));
      expect(error.code).toBe('STREAM_NOT_FOUND');
      expect(error.message).toBe('stream not found: order-x');
    });

    it('reports STREAM_NOT_FOUND when the stream disappears before the insert', async () => {
      const racing = new CreateSnapshot({
        ...kit,
        snapshots: { save: async () => ({ kind: 'stream_not_found' }), latest: async () => null },
      });
      const error = await rejectionOf(
        racing.execute({ streamId: 'order-order-001', snapshotVersion: 1, state: {} }),
      );
      expect(error.code).toBe('STREAM_NOT_FOUND');
    });
  });

  describe('GetLatestSnapshot', () => {
    it('returns the highest version, not the most recent', async () => {
      await create.execute({ streamId: 'order-order-001', snapshotVersion: 2, state: { v: 2 } });
      kit.clock.advance(1000);
      await create.execute({ streamId: 'order-order-001', snapshotVersion: 1, state: { v: 1 } });
      expect((await latest.execute({ streamId: 'order-order-001' })).state).toEqual({ v: 2 });
    });

    it('reports SNAPSHOT_NOT_FOUND for a stream without snapshots', async () => {
      const error = await rejectionOf(latest.execute({ streamId: 'order-order-001' }));
      expect(error.kind).toBe('not_found');
      expect(error.code).toBe('SNAPSHOT_NOT_FOUND');
      expect(error.message).toBe('no snapshot found for stream: order-order-001');
    });

    it('reports SNAPSHOT_NOT_FOUND for a missing stream too, and validates the id', async () => {
      expect((await rejectionOf(latest.execute({ streamId: 'order-x' }))).code).toBe('SNAPSHOT_NOT_FOUND');
      expect((await rejectionOf(latest.execute({ streamId: '' }))).code).toBe('VALIDATION_ERROR');
    });
  });
});
