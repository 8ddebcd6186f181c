import { beforeEach, describe, expect, it } from 'vitest';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { CreateSnapshot } from '../src/use-cases/create-snapshot.js';
import { DeleteStream } from '../src/use-cases/delete-stream.js';
import { ReadEvents } from '../src/use-cases/read-events.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { rejectionOf } from './helpers.js';

describe('DeleteStream', () => {
  let kit: InMemoryEventStoreKit;
  let remove: DeleteStream;

  beforeEach(async () => {
    kit = createInMemoryEventStore();
    remove = new DeleteStream(kit);
    const append = new AppendEvents(kit);
    const events = [
      { eventType: 'A', payload: {} },
      { eventType: 'B', payload: {} },
    ];
    await append.execute({ streamId: 'order-order-001', expectedVersion: 0, events });
    await append.execute({ streamId: 'order-order-002', expectedVersion: 0, events });
    await new CreateSnapshot(kit).execute({ streamId: 'order-order-001', snapshotVersion: 2, state: {} });
  });

  it('removes the stream, its events and snapshots, and records who did it', async () => {
    const result = await remove.execute({ streamId: 'order-order-001', actor: 'admin@example.com' });
    expect(result).toEqual({
      streamId: 'order-order-001',
      deletedEvents: 2,
      deletedSnapshots: 1,
      message: 'stream order-order-001 and all related data deleted',
    });
    expect(kit.tables.deletions).toEqual([
      {
        streamId: 'order-order-001',
        actor: 'admin@example.com',
        at: kit.clock.now(),
        deletedEvents: 2,
        deletedSnapshots: 1,
      },
    ]);
    expect(kit.tables.events.map((e) => e.streamId)).toEqual(['order-order-002', 'order-order-002']);
    expect(kit.tables.snapshots).toEqual([]);
    const read = await rejectionOf(new ReadEvents(kit).execute({ streamId: 'order-order-001' }));
    expect(read.code).toBe('STREAM_NOT_FOUND');
  });

  it('lets the stream id be used again afterwards with expected_version -1', async () => {
    await remove.execute({ streamId: 'order-order-001', actor: 'admin' });
    const again = await new AppendEvents(kit).execute({
      streamId: 'order-order-001',
      expectedVersion: -1,
      events: [{ eventType: 'A', payload: {} }],
    });
    expect(again.currentVersion).toBe(1);
  });

  it('reports a missing stream as STREAM_NOT_FOUND and validates the id', async () => {
    const missing = await rejectionOf(remove.execute({ streamId: 'order-x', actor: 'admin' }));
    expect(missing.code).toBe('STREAM_NOT_FOUND');
    expect(missing.message).toBe('stream not found: order-x');
    expect((await rejectionOf(remove.execute({ streamId: '/', actor: 'admin' }))).code).toBe(
      'VALIDATION_ERROR',
    );
    expect(kit.tables.deletions).toEqual([]);
  });
});
