import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../src/model/stored-event.js';
import { decideAppend } from '../src/rules/append-decision.js';

function stored(eventId: string, version: number): StoredEvent {
  return {
    streamId: 's',
    sequence: BigInt(version * 10),
    eventId,
    eventType: 'T',
    version,
    payload: {},
    metadata: {},
    occurredAt: new Date(0),
    storedAt: new Date(0),
  };
}

describe('decideAppend', () => {
  it('appends after the current version and says whether the stream row must be created', () => {
    expect(decideAppend(0, ['a', 'b'], { stream: null, alreadyStored: [] })).toEqual({
      kind: 'append',
      firstVersion: 1,
      currentVersion: 2,
      createStream: true,
    });
    expect(decideAppend(-2, ['a'], { stream: { currentVersion: 7 }, alreadyStored: [] })).toEqual({
      kind: 'append',
      firstVersion: 8,
      currentVersion: 8,
      createStream: false,
    });
    expect(decideAppend(-1, ['a'], { stream: null, alreadyStored: [] })).toMatchObject({ kind: 'append' });
  });

  it('reports conflicts with the actual version', () => {
    expect(decideAppend(3, ['a'], { stream: { currentVersion: 4 }, alreadyStored: [] })).toEqual({
      kind: 'version_conflict',
      actualVersion: 4,
    });
    expect(decideAppend(-1, ['a'], { stream: { currentVersion: 4 }, alreadyStored: [] })).toEqual({
      kind: 'stream_exists',
      actualVersion: 4,
    });
  });

  it('recognises an exact retry whatever order the adapter returns the stored events in', () => {
    const decision = decideAppend(2, ['a', 'b'], {
      stream: { currentVersion: 9 },
      alreadyStored: [stored('b', 4), stored('a', 3)],
    });
    expect(decision).toEqual({
      kind: 'duplicate',
      events: [stored('a', 3), stored('b', 4)],
      currentVersion: 4,
    });
  });

  it('does not take ids stored in another order, with a gap, or at another start for a retry', () => {
    const state = (events: StoredEvent[]) => ({ stream: { currentVersion: 9 }, alreadyStored: events });
    expect(decideAppend(2, ['a', 'b'], state([stored('b', 3), stored('a', 4)]))).toEqual({
      kind: 'event_id_conflict',
      index: 0,
      eventId: 'a',
      storedVersion: 4,
    });
    expect(decideAppend(2, ['a', 'b'], state([stored('a', 3), stored('b', 5)]))).toMatchObject({
      kind: 'event_id_conflict',
    });
    expect(decideAppend(-1, ['a'], state([stored('a', 2)]))).toMatchObject({ kind: 'event_id_conflict' });
    expect(decideAppend(-1, ['a'], state([stored('a', 1)]))).toMatchObject({ kind: 'duplicate' });
  });
});
