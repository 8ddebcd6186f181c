import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_SEQUENCE } from '../src/rules/ranges.js';
import { AppendEvents } from '../src/use-cases/append-events.js';
import { ReadEventBySequence } from '../src/use-cases/read-event-by-sequence.js';
import { createInMemoryEventStore, type InMemoryEventStoreKit } from './fakes.js';
import { rejectionOf } from './helpers.js';

describe('ReadEventBySequence', () => {
  let kit: InMemoryEventStoreKit;
  let read: ReadEventBySequence;

  beforeEach(async () => {
    kit = createInMemoryEventStore();
    read = new ReadEventBySequence(kit);
    const append = new AppendEvents(kit);
    await append.execute({ streamId: 'a', expectedVersion: 0, events: [{ eventType: 'A1', payload: 1 }] });
    await append.execute({ streamId: 'b', expectedVersion: 0, events: [{ eventType: 'B1', payload: 2 }] });
  });

  it('returns the event of that stream', async () => {
    const event = await read.execute({ streamId: 'b', sequence: 2n });
    expect(event).toMatchObject({ streamId: 'b', sequence: 2n, eventType: 'B1', version: 1 });
  });

  it('reports an event of another stream, or no event, as EVENT_NOT_FOUND', async () => {
    for (const [streamId, sequence] of [
      ['a', 2n],
      ['a', 99n],
      ['missing', 1n],
    ] as const) {
      const error = await rejectionOf(read.execute({ streamId, sequence }));
      expect(error.kind).toBe('not_found');
      expect(error.code).toBe('EVENT_NOT_FOUND');
      expect(error.message).toBe(`event not found: stream ${streamId}, sequence ${sequence}`);
    }
  });

  it('rejects sequences outside 1..2^63-1', async () => {
    for (const sequence of [0n, -1n, MAX_SEQUENCE + 1n]) {
      const error = await rejectionOf(read.execute({ streamId: 'a', sequence }));
      expect(error.details).toEqual([
        { field: 'sequence', message: `must be between 1 and ${MAX_SEQUENCE}` },
      ]);
    }
  });
});
