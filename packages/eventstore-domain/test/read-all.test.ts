import { beforeEach, describe, expect, it } from 'vitest';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { ReadAll } from '../src/use-cases/read-all.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { rejectionOf } from './helpers.js';

describe('ReadAll', () => {
  let kit: InMemoryEventStoreKit;
  let readAll: ReadAll;

  async function appendMany(streamId: string, types: string[]): Promise<void> {
    await new AppendEvents(kit).execute({
      streamId,
      expectedVersion: -2,
      events: types.map((eventType) => ({ eventType, payload: {} })),
    });
  }

  beforeEach(() => {
    kit = createInMemoryEventStore();
    readAll = new ReadAll(kit);
  });

  it('reads the global log across streams in sequence order, from an inclusive sequence', async () => {
    await appendMany('a', ['A1', 'A2']);
    await appendMany('b', ['B1']);
    await appendMany('a', ['A3']);
    const all = await readAll.execute({});
    expect(all.events.map((e) => `${e.streamId}:${e.sequence}`)).toEqual(['a:1', 'a:2', 'b:3', 'a:4']);
    expect(all.nextSequence).toBe(5n);
    const tail = await readAll.execute({ fromSequence: 3n });
    expect(tail.events.map((e) => e.sequence)).toEqual([3n, 4n]);
    const empty = await readAll.execute({ fromSequence: 5n });
    expect(empty).toEqual({ events: [], nextSequence: 5n });
  });

  it('defaults to 100 events per batch and continues from next_sequence', async () => {
    for (let i = 0; i < 2; i++)
      await appendMany(
        `s${i}`,
        Array.from({ length: 60 }, () => 'T'),
      );
    const first = await readAll.execute({});
    expect(first.events).toHaveLength(100);
    expect(first.nextSequence).toBe(101n);
    const second = await readAll.execute({ fromSequence: first.nextSequence });
    expect(second.events.map((e) => e.sequence)).toEqual(
      Array.from({ length: 20 }, (_, i) => BigInt(101 + i)),
    );
  });

  it('filters by event types', async () => {
    await appendMany('a', ['A', 'B', 'C', 'A']);
    const batch = await readAll.execute({ eventTypes: ['A', 'C'], limit: 2 });
    expect(batch.events.map((e) => e.eventType)).toEqual(['A', 'C']);
    const rest = await readAll.execute({ eventTypes: ['A', 'C'], fromSequence: batch.nextSequence });
    expect(rest.events.map((e) => e.sequence)).toEqual([4n]);
  });

  it.each([
    [{ limit: 0 }, 'limit', 'must be between 1 and 1000'],
    [{ limit: 1001 }, 'limit', 'must be between 1 and 1000'],
    [{ fromSequence: -1n }, 'from_sequence', 'must be between 0 and 9223372036854775807'],
    [{ eventTypes: ['ok', ''] }, 'event_types[1]', 'must not be empty'],
  ])('rejects %o', async (input, field, message) => {
    const error = await rejectionOf(readAll.execute(input));
    expect(error.details).toEqual([{ field, message }]);
  });

  it('accepts limit 1000 and a configured maximum', async () => {
    await appendMany('a', ['A']);
    expect((await readAll.execute({ limit: 1000 })).events).toHaveLength(1);
    const capped = new ReadAll({ ...kit, limits: { maxReadAllLimit: 5, defaultReadAllLimit: 5 } });
    expect((await rejectionOf(capped.execute({ limit: 6 }))).details[0]?.field).toBe('limit');
  });
});
