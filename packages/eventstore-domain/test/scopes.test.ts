import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { ReadAll } from '../src/use-cases/read-all.js';
import { ReadEvents } from '../src/use-cases/read-events.js';
import { SubscribeAll } from '../src/use-cases/subscribe-all.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { rejectionOf } from './helpers.js';

// Unit tests of the scope rules in the use cases (fakes); the app's scopes tests cover every
// route and RPC against PostgreSQL.
const SCOPES = ['order.*'];

describe('scoped event store use cases', () => {
  let kit: InMemoryEventStoreKit;

  async function append(streamId: string, count = 1): Promise<void> {
    await new AppendEvents(kit).execute({
      streamId,
      expectedVersion: -2,
      events: Array.from({ length: count }, () => ({ eventType: 'E', payload: {} })),
    });
  }

  beforeEach(() => {
    kit = createInMemoryEventStore();
  });

  it('refuses a stream outside the scopes before looking it up, existing or not', async () => {
    await append('invoice.1');
    const readStream = vi.spyOn(kit.events, 'readStream');
    for (const streamId of ['invoice.1', 'invoice.2', 'order']) {
      const error = await rejectionOf(new ReadEvents(kit).execute({ streamId, scopes: SCOPES }));
      expect({ kind: error.kind, code: error.code }).toEqual({
        kind: 'permission_denied',
        code: 'PERMISSION_DENIED',
      });
    }
    expect(readStream).not.toHaveBeenCalled();
  });

  it('ReadAll scans past long stretches of other streams, returns at most limit, skips nothing', async () => {
    // Scan batches of 2: the in-scope events sit behind several batches of other streams.
    const readAll = new ReadAll({ events: kit.events, limits: { maxReadAllLimit: 2 } });
    await append('order.1'); // 1
    await append('invoice.1', 5); // 2..6
    await append('order.2', 3); // 7..9
    await append('invoice.2'); // 10

    const first = await readAll.execute({ limit: 1, scopes: SCOPES });
    expect(first.events.map((e) => e.sequence)).toEqual([1n]);
    const second = await readAll.execute({ fromSequence: first.nextSequence, limit: 2, scopes: SCOPES });
    expect(second.events.map((e) => e.sequence)).toEqual([7n, 8n]);
    const third = await readAll.execute({ fromSequence: second.nextSequence, limit: 2, scopes: SCOPES });
    expect(third.events.map((e) => e.sequence)).toEqual([9n]);
    // Caught up: empty means "nothing more yet", and the cursor has moved past the rest.
    const end = await readAll.execute({ fromSequence: third.nextSequence, limit: 2, scopes: SCOPES });
    expect(end.events).toEqual([]);
    expect(end.nextSequence).toBe(11n);

    // Unscoped callers are unaffected.
    expect((await readAll.execute({ limit: 2 })).events.map((e) => e.sequence)).toEqual([1n, 2n]);
  });

  it('ReadAll with empty scopes reads nothing and still ends', async () => {
    await append('order.1', 3);
    const batch = await new ReadAll({ events: kit.events, limits: { maxReadAllLimit: 1 } }).execute({
      limit: 1,
      scopes: [],
    });
    expect(batch).toEqual({ events: [], nextSequence: 4n });
  });

  it('SubscribeAll delivers only streams in scope, in order, catch-up then live', async () => {
    await append('order.1');
    await append('invoice.1', 3);
    await append('order.2');
    const controller = new AbortController();
    const subscription = new SubscribeAll({ events: kit.events, newEvents: kit.newEvents, batchSize: 2 });
    const iterator = subscription
      .execute({ scopes: SCOPES, signal: controller.signal })
      [Symbol.asyncIterator]();
    expect((await iterator.next()).value?.sequence).toBe(1n);
    expect((await iterator.next()).value?.sequence).toBe(5n);
    const live = iterator.next();
    await append('invoice.2');
    await append('order.3');
    expect((await live).value).toMatchObject({ streamId: 'order.3', sequence: 7n });
    controller.abort();
  });
});
