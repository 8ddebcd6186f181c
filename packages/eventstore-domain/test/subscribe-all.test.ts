import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoredEvent } from '../src/model/stored-event.js';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { SubscribeAll } from '../src/use-cases/subscribe-all.js';
import {
  createInMemoryEventStore,
  InMemoryEventStore,
  type InMemoryEventStoreKit,
  InMemoryNewEventsSignal,
} from './fakes.js';
import { thrownBy } from './helpers.js';

const NO_POLL = 60_000;

type Step = IteratorResult<StoredEvent> | 'pending';

/**
 * The iterator's next result, or 'pending' if it has none within `ms`; a 'pending' call still owns
 * that next() and will consume the next event, so call it last or keep the promise (see nextOf).
 */
async function nextWithin(iterator: AsyncIterator<StoredEvent>, ms = 1000): Promise<Step> {
  return nextOf(iterator.next(), ms);
}

async function nextOf(promise: Promise<IteratorResult<StoredEvent>>, ms: number): Promise<Step> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function take(iterator: AsyncIterator<StoredEvent>, count: number): Promise<bigint[]> {
  const sequences: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const step = await nextWithin(iterator);
    if (step === 'pending' || step.done)
      throw new Error(`expected event ${i + 1} of ${count}, got ${String(step)}`);
    sequences.push(step.value.sequence);
  }
  return sequences;
}

describe('SubscribeAll', () => {
  let kit: InMemoryEventStoreKit;
  let append: AppendEvents;

  async function appendTo(streamId: string, ...types: string[]): Promise<void> {
    await append.execute({
      streamId,
      expectedVersion: -2,
      events: types.map((eventType) => ({ eventType, payload: {} })),
    });
  }

  beforeEach(() => {
    kit = createInMemoryEventStore();
    append = new AppendEvents(kit);
  });

  it('catches up, then delivers live events, each once and in order', async () => {
    await appendTo('a', 'A1', 'A2', 'A3');
    const controller = new AbortController();
    const subscription = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL, batchSize: 2 });
    const iterator = subscription.execute({ signal: controller.signal })[Symbol.asyncIterator]();

    expect(await take(iterator, 1)).toEqual([1n]);
    // Appended while the subscriber is still catching up.
    await appendTo('b', 'B1');
    expect(await take(iterator, 3)).toEqual([2n, 3n, 4n]);
    // The same pending next() is then fulfilled by the live event.
    const waiting = iterator.next();
    expect(await nextOf(waiting, 30)).toBe('pending');
    await appendTo('a', 'A4', 'A5');
    expect((await nextOf(waiting, 1000)) as IteratorResult<StoredEvent>).toMatchObject({
      done: false,
      value: { sequence: 5n, eventType: 'A4' },
    });
    expect(await take(iterator, 1)).toEqual([6n]);
    expect(await nextWithin(iterator, 30)).toBe('pending');
    controller.abort();
  });

  it('executeBatches: the same log in its read batches, each non-empty and in order, then live', async () => {
    await appendTo('a', 'A1', 'A2', 'A3', 'A4', 'A5');
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL, batchSize: 2 })
      .executeBatches({ signal: controller.signal })
      [Symbol.asyncIterator]();
    const batches: bigint[][] = [];
    for (let i = 0; i < 3; i++) {
      const step = await iterator.next();
      if (step.done) throw new Error('ended early');
      batches.push(step.value.map((event) => event.sequence));
    }
    expect(batches).toEqual([[1n, 2n], [3n, 4n], [5n]]);
    const waiting = iterator.next();
    await appendTo('b', 'B1', 'B2');
    const live = await waiting;
    expect(live.done ? [] : live.value.map((event) => event.sequence)).toEqual([6n, 7n]);
    controller.abort();
  });

  it('starts at an inclusive from_sequence and filters by event types', async () => {
    await appendTo('a', 'Keep', 'Drop', 'Keep', 'Keep');
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL })
      .execute({ fromSequence: 2n, eventTypes: ['Keep'], signal: controller.signal })
      [Symbol.asyncIterator]();
    expect(await take(iterator, 2)).toEqual([3n, 4n]);
    const waiting = iterator.next();
    await appendTo('a', 'Drop');
    expect(await nextOf(waiting, 30)).toBe('pending');
    await appendTo('a', 'Keep');
    expect(((await nextOf(waiting, 1000)) as IteratorResult<StoredEvent>).value?.sequence).toBe(6n);
    controller.abort();
  });

  it('abort ends a waiting iteration normally and removes its listener', async () => {
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL })
      .execute({ signal: controller.signal })
      [Symbol.asyncIterator]();
    const waiting = iterator.next();
    await vi.waitFor(() => expect(kit.newEvents.listenerCount).toBe(1));
    controller.abort();
    expect(await nextOf(waiting, 1000)).toEqual({ done: true, value: undefined });
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  it('abort between two events of a batch stops before the next one', async () => {
    await appendTo('a', 'A1', 'A2');
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL })
      .execute({ signal: controller.signal })
      [Symbol.asyncIterator]();
    expect(await take(iterator, 1)).toEqual([1n]);
    controller.abort();
    expect(await nextWithin(iterator)).toEqual({ done: true, value: undefined });
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  it('an already aborted signal yields nothing', async () => {
    await appendTo('a', 'A1');
    const received: StoredEvent[] = [];
    for await (const event of new SubscribeAll(kit).execute({ signal: AbortSignal.abort() })) {
      received.push(event);
    }
    expect(received).toEqual([]);
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  it('leaving a for-await loop removes the listener', async () => {
    await appendTo('a', 'A1', 'A2');
    for await (const event of new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL }).execute({})) {
      expect(kit.newEvents.listenerCount).toBe(1);
      if (event.sequence === 2n) break;
    }
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  // The use case's part of never-skip: it follows readAll's nextSequence and nothing else, so an
  // event that commits late at a lower sequence is still delivered, before the later one. (A use
  // case that moved its cursor past a position readAll had not released would lose sequence 2
  // here.) The cut-off itself lives in the adapter (the fake's `inFlight` here); PostgreSQL's is
  // tested by apps/event-store/test/subscribe-all.test.ts ("does not deliver B before an earlier
  // uncommitted A").
  it('does not pass an event still in flight with a lower sequence (never-skip)', async () => {
    await appendTo('a', 'A1');
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL })
      .execute({ signal: controller.signal })
      [Symbol.asyncIterator]();
    expect(await take(iterator, 1)).toEqual([1n]);

    const inFlight = kit.events.beginInFlight(); // takes sequence 2
    const waiting = iterator.next();
    await appendTo('a', 'A2'); // sequence 3, committed first
    expect(await nextOf(waiting, 30)).toBe('pending');
    inFlight.finish({ streamId: 'held', eventType: 'H1' }); // sequence 2 commits after 3
    expect(((await nextOf(waiting, 1000)) as IteratorResult<StoredEvent>).value?.sequence).toBe(2n);
    expect(await take(iterator, 1)).toEqual([3n]);
    controller.abort();
  });

  it('keeps a wake-up that fires while it is reading', async () => {
    const controller = new AbortController();
    const realReadAll = kit.events.readAll.bind(kit.events);
    let reads = 0;
    vi.spyOn(kit.events, 'readAll').mockImplementation(async (query) => {
      const batch = await realReadAll(query);
      reads += 1;
      // An append commits (and signals) after this read took its view but before it returned.
      if (reads === 1) await appendTo('a', 'Raced');
      return batch;
    });
    // From 1, the first (empty) read makes no progress, so only the wake-up can end the wait.
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL })
      .execute({ fromSequence: 1n, signal: controller.signal })
      [Symbol.asyncIterator]();
    expect(await take(iterator, 1)).toEqual([1n]);
    controller.abort();
  });

  it('falls back to polling when no wake-up comes', async () => {
    const silentWriter = new InMemoryEventStore(kit.tables, kit.clock, new InMemoryNewEventsSignal());
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: 10 })
      .execute({ signal: controller.signal })
      [Symbol.asyncIterator]();
    const waiting = iterator.next();
    await new AppendEvents({ ...kit, events: silentWriter }).execute({
      streamId: 'a',
      expectedVersion: 0,
      events: [{ eventType: 'Quiet', payload: {} }],
    });
    expect(((await nextOf(waiting, 1000)) as IteratorResult<StoredEvent>).value?.eventType).toBe('Quiet');
    controller.abort();
  });

  it('validates at once, before any listener exists', () => {
    const subscription = new SubscribeAll(kit);
    const error = thrownBy(() => subscription.execute({ fromSequence: -1n, eventTypes: [''] }));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((d) => d.field)).toEqual(['from_sequence', 'event_types[0]']);
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  it('ends with the store error and removes its listener', async () => {
    const failure = new Error('database unreachable');
    vi.spyOn(kit.events, 'readAll').mockRejectedValue(failure);
    const iterator = new SubscribeAll(kit).execute({})[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBe(failure);
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  it('behind the head, reads the next batch before the consumer takes the current one (read-ahead)', async () => {
    await appendTo('a', 'A1', 'A2', 'A3', 'A4', 'A5');
    const reads = vi.spyOn(kit.events, 'readAll');
    const controller = new AbortController();
    const iterator = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL, batchSize: 2 })
      .executeBatches({ signal: controller.signal })
      [Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.map((e: StoredEvent) => e.sequence)).toEqual([1n, 2n]);
    // The second batch's read is under way while the first is still with the consumer.
    expect(reads.mock.calls.map(([query]) => query.fromSequence)).toEqual([0n, 3n]);
    expect((await iterator.next()).value?.map((e: StoredEvent) => e.sequence)).toEqual([3n, 4n]);
    expect((await iterator.next()).value?.map((e: StoredEvent) => e.sequence)).toEqual([5n]);
    controller.abort();
    await iterator.return?.();
    expect(kit.newEvents.listenerCount).toBe(0);
  });

  it('a read-ahead that fails reaches the consumer; one left behind by a consumer that stopped is dropped', async () => {
    await appendTo('a', 'A1', 'A2', 'A3');
    const failure = new Error('database unreachable');
    const realReadAll = kit.events.readAll.bind(kit.events);
    vi.spyOn(kit.events, 'readAll').mockImplementation(async (query) =>
      query.fromSequence === 0n ? realReadAll(query) : Promise.reject(failure),
    );
    const subscription = new SubscribeAll({ ...kit, pollIntervalMs: NO_POLL, batchSize: 2 });
    const failing = subscription.executeBatches({})[Symbol.asyncIterator]();
    expect((await failing.next()).value?.length).toBe(2);
    await expect(failing.next()).rejects.toBe(failure);
    // Stopping while the read-ahead is failing: no unhandled rejection (vitest would report it).
    const stopped = subscription.executeBatches({})[Symbol.asyncIterator]();
    expect((await stopped.next()).value?.length).toBe(2);
    await stopped.return?.();
    expect(kit.newEvents.listenerCount).toBe(0);
  });
});
