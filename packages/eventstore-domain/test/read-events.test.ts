import { beforeEach, describe, expect, it } from 'vitest';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { ReadEvents } from '../src/use-cases/read-events.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { rejectionOf } from './helpers.js';

describe('ReadEvents', () => {
  let kit: InMemoryEventStoreKit;
  let read: ReadEvents;

  beforeEach(async () => {
    kit = createInMemoryEventStore();
    read = new ReadEvents(kit);
    const types = ['Placed', 'Shipped', 'Placed', 'Paid', 'Placed'];
    await new AppendEvents(kit).execute({
      streamId: 'order-1',
      expectedVersion: 0,
      events: types.map((eventType) => ({ eventType, payload: {} })),
    });
  });

  it('returns the whole stream ascending by version with default paging', async () => {
    const result = await read.execute({ streamId: 'order-1' });
    expect(result.streamId).toBe('order-1');
    expect(result.currentVersion).toBe(5);
    expect(result.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    expect(result.pagination).toEqual({ totalCount: 5, page: 1, pageSize: 50, hasNext: false });
  });

  it('filters by inclusive version range and event type', async () => {
    const range = await read.execute({ streamId: 'order-1', fromVersion: 2, toVersion: 4 });
    expect(range.events.map((e) => e.version)).toEqual([2, 3, 4]);
    expect(range.pagination.totalCount).toBe(3);
    const typed = await read.execute({ streamId: 'order-1', eventType: 'Placed', fromVersion: 2 });
    expect(typed.events.map((e) => e.version)).toEqual([3, 5]);
    expect(typed.currentVersion).toBe(5);
  });

  it('treats from_version 0 like 1', async () => {
    const result = await read.execute({ streamId: 'order-1', fromVersion: 0 });
    expect(result.events).toHaveLength(5);
  });

  it('pages with has_next', async () => {
    const first = await read.execute({ streamId: 'order-1', page: 1, pageSize: 2 });
    const last = await read.execute({ streamId: 'order-1', page: 3, pageSize: 2 });
    const beyond = await read.execute({ streamId: 'order-1', page: 4, pageSize: 2 });
    expect(first.events.map((e) => e.version)).toEqual([1, 2]);
    expect(first.pagination).toEqual({ totalCount: 5, page: 1, pageSize: 2, hasNext: true });
    expect(last.events.map((e) => e.version)).toEqual([5]);
    expect(last.pagination.hasNext).toBe(false);
    expect(beyond.events).toEqual([]);
    expect(beyond.pagination.hasNext).toBe(false);
  });

  it('accepts page_size 200 and a configured maximum', async () => {
    expect((await read.execute({ streamId: 'order-1', pageSize: 200 })).pagination.pageSize).toBe(200);
    const capped = new ReadEvents({ ...kit, limits: { maxPageSize: 3 } });
    const error = await rejectionOf(capped.execute({ streamId: 'order-1', pageSize: 4 }));
    expect(error.details).toEqual([{ field: 'page_size', message: 'must be between 1 and 3' }]);
  });

  it.each([
    [{ page: 0 }, 'page', 'must be >= 1'],
    [{ page: 1.5 }, 'page', 'must be an integer'],
    [{ page: Number.MAX_SAFE_INTEGER }, 'page', 'is too large'],
    [{ pageSize: 0 }, 'page_size', 'must be between 1 and 200'],
    [{ pageSize: 201 }, 'page_size', 'must be between 1 and 200'],
    [{ fromVersion: -1 }, 'from_version', 'must be >= 0'],
    [{ fromVersion: 3, toVersion: 2 }, 'to_version', 'must be >= 3'],
    [{ toVersion: 0 }, 'to_version', 'must be >= 1'],
    [{ eventType: '' }, 'event_type', 'must not be empty'],
  ])('rejects %o', async (parameters, field, message) => {
    const error = await rejectionOf(read.execute({ streamId: 'order-1', ...parameters }));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details).toEqual([{ field, message }]);
  });

  it('reports a missing stream as STREAM_NOT_FOUND', async () => {
    const error = await rejectionOf(read.execute({ streamId: 'order-order-999' }));
    expect(error.kind).toBe('not_found');
    expect(error.code).toBe('STREAM_NOT_FOUND');
    expect(error.message).toBe('stream not found: order-order-999');
    expect(error.details).toEqual([]);
  });

  it('validates the stream id before looking it up', async () => {
    const error = await rejectionOf(read.execute({ streamId: '' }));
    expect(error.details[0]?.field).toBe('stream_id');
  });
});
