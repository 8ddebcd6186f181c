import { randomUUID } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { JsonValue, PreparedEvent, StoredEvent } from '@k1s0/eventstore-domain';
import { eventStoreV1 } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedEventToProto } from '../src/grpc/messages.js';
import { withEncodedEvents } from '../src/grpc/stored-event-wire.js';
import { wireOf } from '../src/persistence/event-rows.js';
import { jsonbOrderedText } from '../src/persistence/jsonb-text.js';
import { PostgresEventStore } from '../src/persistence/postgres-event-store.js';
import { formatTimestamp } from '../src/timestamps.js';
import { type MigratedDatabase, migratedDatabase } from './support/migrated-database.js';

// The wire body written by the append (issue 13) against what PostgreSQL stores: a gRPC read of
// the body must send the bytes the ordinary mapping of the stored columns sends.

let db: MigratedDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await migratedDatabase();
  store = new PostgresEventStore(db.database);
});

afterAll(async () => {
  await db.close();
});

// Objects whose key order jsonb changes (length, then bytes; non-ASCII; integer-like keys, which a
// JS object puts first either way), numbers JS prints in exponent form, escapes, "__proto__".
const payloads: JsonValue[] = [
  { b: 1, a: 2 },
  { total: 3000, order_id: 'o-1', id: 'x' },
  { zz: 1, é: 2, e: 3, 日本: 4, ab: 5, Z: 6 },
  { 10: 'ten', 2: 'two', b: [{ y: 1, x: 2 }], a: null, '01': true, '4294967295': 'not an index' },
  [3, { d: { c: { b: 1, a: 2 } } }, 'x'],
  { n: 1e21, m: 1e-7, o: 0.1, p: -0, q: 12345678901234567000, r: 2.5, big: 2 ** 60 },
  { s: 'line\nbreak "quoted" \\ back \u0001 control', t: '😀', u: '\u2028' },
  JSON.parse('{"__proto__": {"b": 1, "a": 2}, "x": 1}') as JsonValue,
  'a string',
  42,
  null,
  { already: 1, inorder: 2 },
];

describe('jsonbOrderedText', () => {
  it('is the text JSON.stringify writes for the value read back from a jsonb column', async () => {
    for (const payload of payloads) {
      const [row] = await db.database.sql<{ text: string }[]>`
        select (${JSON.stringify(payload)}::jsonb)::text as text`;
      const expected = JSON.stringify(JSON.parse(row!.text));
      expect(jsonbOrderedText(payload), JSON.stringify(payload)).toBe(expected);
      expect(jsonbOrderedText(payload, JSON.stringify(payload))).toBe(expected);
    }
  });

  it('reuses the caller text only when nothing needs reordering', () => {
    expect(jsonbOrderedText({ a: 1, bb: 2 }, 'given')).toBe('given');
    expect(jsonbOrderedText({ bb: 1, a: 2 }, 'given')).toBe('{"a":2,"bb":1}');
    expect(jsonbOrderedText([{ bb: 1, a: 2 }], 'given')).toBe('[{"a":2,"bb":1}]');
  });
});

function event(payload: JsonValue, metadata: PreparedEvent['metadata'] = {}): PreparedEvent {
  return {
    eventId: randomUUID(),
    eventType: 'Tested',
    payload,
    metadata,
    occurredAt: new Date('2026-02-23T10:00:00.123Z'),
  };
}

/** The ReadEvents response bytes of `events`, pre-encoded (undefined: not pre-encodable). */
function responseBytes(events: StoredEvent[]): Uint8Array {
  const head = { streamId: 's', currentVersion: 1n, totalCount: 1n, hasNext: false };
  const encoded = withEncodedEvents(create(eventStoreV1.ReadEventsResponseSchema, head), 2, events);
  expect(encoded).toBeDefined();
  return toBinary(eventStoreV1.ReadEventsResponseSchema, encoded!);
}

/** Each event's bytes from the ordinary mapping of its fields (toBinary of the message). */
function ordinaryEventBytes(events: StoredEvent[]): Buffer {
  return Buffer.concat(
    events.map((e) => {
      const body = toBinary(
        eventStoreV1.StoredEventSchema,
        create(eventStoreV1.StoredEventSchema, storedEventToProto(e)),
      );
      return Buffer.concat([Buffer.from([0x12, ...varint(body.length)]), body]);
    }),
  );
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const wholeStream = { fromVersion: 1, toVersion: undefined, eventType: undefined, offset: 0, limit: 100 };

describe('wire reads (PostgresEventStore.wireReads)', () => {
  it('send the bytes of the stored columns, byte for byte, for every kind of payload and metadata', async () => {
    const streamId = `wire-${randomUUID()}`;
    const metadata: PreparedEvent['metadata'][] = [
      {},
      { actor_id: 'u1', correlation_id: null, custom: 'kept' },
      { actor_id: '', causation_id: 'c', correlation_id: 7 as unknown as string },
    ];
    const events = payloads.map((payload, i) => event(payload, metadata[i % metadata.length]));
    const outcome = await store.append({ streamId, expectedVersion: -1, events, aggregateType: 'a' });
    expect(outcome.kind).toBe('appended');

    const full = await store.readStream(streamId, wholeStream);
    const wire = await store.wireReads().readStream(streamId, wholeStream);
    expect(wire!.events.every((e) => wireOf(e) !== undefined)).toBe(true);
    expect(full!.events.every((e) => wireOf(e) === undefined)).toBe(true);
    const bytes = Buffer.from(responseBytes(wire!.events));
    expect(bytes.equals(Buffer.from(responseBytes(full!.events)))).toBe(true);
    // The events as toBinary writes them (the pre-encoded field follows the response's own fields).
    expect(bytes.includes(ordinaryEventBytes(full!.events))).toBe(true);

    // The fields a JSON client gets through the ordinary mapping of a wire-read event.
    expect(wire!.events.map(storedEventToProto)).toEqual(full!.events.map(storedEventToProto));
    expect(wire!.events.map((e) => [e.streamId, e.sequence, e.version])).toEqual(
      full!.events.map((e) => [e.streamId, e.sequence, e.version]),
    );
  });

  it('mix rows with and without a body (rows written before the column) in one page and one global batch', async () => {
    const streamId = `mixed-${randomUUID()}`;
    await store.append({
      streamId,
      expectedVersion: -1,
      events: [event({ b: 1, a: 2 })],
      aggregateType: 'a',
    });
    // Rows as older versions of the service wrote them: no wire body at all, and only the first
    // release's `wire_body` (without stored_at; garbage here, so reading it would show).
    await db.database.sql`
      insert into event_store.events (sequence, tx_id, stream_id, event_id, version, event_type, payload, metadata)
      select nextval('event_store.events_sequence_seq'), pg_current_xact_id(), ${streamId}, ${randomUUID()}::uuid, 2,
        'Old', '{"z": 1, "y": [1, 2.50]}'::jsonb, '{"actor_id": "old"}'::jsonb`;
    await db.database.sql`
      insert into event_store.events
        (sequence, tx_id, stream_id, event_id, version, event_type, payload, metadata, wire_body)
      select nextval('event_store.events_sequence_seq'), pg_current_xact_id(), ${streamId}, ${randomUUID()}::uuid, 3,
        'Older', '{"x": 1}'::jsonb, '{}'::jsonb, 'AAAAAAAA'`;
    await db.database.sql`update event_store.event_streams set current_version = 3 where id = ${streamId}`;
    await store.append({ streamId, expectedVersion: 3, events: [event({ d: 1, c: 2 })], aggregateType: 'a' });

    const full = await store.readStream(streamId, wholeStream);
    const wire = await store.wireReads().readStream(streamId, wholeStream);
    expect(wire!.events.map((e) => wireOf(e) !== undefined)).toEqual([true, false, false, true]);
    expect(Buffer.from(responseBytes(wire!.events)).equals(Buffer.from(responseBytes(full!.events)))).toBe(
      true,
    );
    expect(Buffer.from(responseBytes(wire!.events)).includes(ordinaryEventBytes(full!.events))).toBe(true);

    const from = full!.events[0]!.sequence;
    const fullAll = await store.readAll({ fromSequence: from, limit: 1000, eventTypes: [] });
    const wireAll = await store.wireReads().readAll({ fromSequence: from, limit: 1000, eventTypes: [] });
    expect(wireAll.nextSequence).toBe(fullAll.nextSequence);
    const mine = (events: StoredEvent[]) => events.filter((e) => e.streamId === streamId);
    expect(mine(wireAll.events)).toHaveLength(4);
    expect(mine(wireAll.events).map((e) => wireOf(e) !== undefined)).toEqual([true, false, false, true]);

    // A page after the old row is all bodies again.
    const later = await store.wireReads().readStream(streamId, { ...wholeStream, fromVersion: 4 });
    expect(later!.events.map((e) => wireOf(e) !== undefined)).toEqual([true]);
    expect(later!.total).toBe(1);
    const laterAll = await store
      .wireReads()
      .readAll({ fromSequence: full!.events[3]!.sequence, limit: 1000, eventTypes: [] });
    expect(laterAll.events.every((e) => wireOf(e) !== undefined)).toBe(true);
    expect(mine(laterAll.events).map((e) => e.sequence)).toEqual([full!.events[3]!.sequence]);
    expect(
      Buffer.from(responseBytes(mine(wireAll.events))).equals(
        Buffer.from(responseBytes(mine(fullAll.events))),
      ),
    ).toBe(true);
  });

  it('carry the stream id in the body, for any length of id (1, 127, 128 and 255 characters)', async () => {
    for (const length of [1, 127, 128, 255]) {
      const streamId = `${randomUUID()}${'s'.repeat(255)}`.slice(0, length);
      await store.append({ streamId, expectedVersion: -2, events: [event({ length })], aggregateType: 'a' });
      const full = await store.readStream(streamId, wholeStream);
      const wire = await store.wireReads().readStream(streamId, wholeStream);
      expect(wireOf(wire!.events[0]!)).toBeDefined();
      expect(wire!.events.map((e) => e.streamId)).toEqual(full!.events.map((e) => e.streamId));
      expect(wire!.events[0]!.streamId).toBe(streamId);
    }
  });

  it('decode back to the event that was appended', async () => {
    const streamId = `decode-${randomUUID()}`;
    const appended = event({ b: [1, 2], a: 'x' }, { actor_id: 'u', causation_id: 'c' });
    await store.append({ streamId, expectedVersion: -1, events: [appended], aggregateType: 'a' });
    const [read] = (await store.wireReads().readStream(streamId, wholeStream))!.events;
    const message = fromBinary(eventStoreV1.StoredEventSchema, Buffer.from(wireOf(read!)!.body, 'base64'));
    expect(message.sequence).toBe(0n); // not in the body: the read writes it
    // stored_at is in the body, the same instant as the column.
    const [column] = (await store.readStream(streamId, wholeStream))!.events;
    expect(message.storedAt).toBe(formatTimestamp(column!.storedAt));
    expect(read!.storedAt).toEqual(column!.storedAt);
    expect({
      eventId: read!.eventId,
      eventType: read!.eventType,
      version: read!.version,
      payload: read!.payload,
      metadata: read!.metadata,
      occurredAt: read!.occurredAt.toISOString(),
    }).toEqual({
      eventId: appended.eventId,
      eventType: 'Tested',
      version: 1,
      payload: { a: 'x', b: [1, 2] },
      metadata: { actor_id: 'u', causation_id: 'c' },
      occurredAt: '2026-02-23T10:00:00.123Z',
    });
  });

  it('page and filter like the column reads: every range, type filter, offset and limit; the global log by type and limit', async () => {
    const streamId = `pages-${randomUUID()}`;
    const events = Array.from({ length: 12 }, (_, i) => ({
      ...event({ i }),
      eventType: i % 3 === 0 ? 'A' : 'B',
    }));
    await store.append({ streamId, expectedVersion: -1, events: events.slice(0, 7), aggregateType: 'a' });
    await store.append({ streamId, expectedVersion: 7, events: events.slice(7), aggregateType: 'a' });
    const shape = (page: Awaited<ReturnType<PostgresEventStore['readStream']>>) =>
      page && {
        stream: page.stream,
        total: page.total,
        events: page.events.map((e) => [e.sequence, e.version, e.eventId, e.eventType]),
        bytes: page.events.length === 0 ? '' : Buffer.from(responseBytes(page.events)).toString('hex'),
      };
    for (const fromVersion of [1, 5, 13]) {
      for (const toVersion of [undefined, 4, 9]) {
        for (const eventType of [undefined, 'A']) {
          for (const [offset, limit] of [
            [0, 100],
            [0, 3],
            [3, 2],
          ] as const) {
            const query = { fromVersion, toVersion, eventType, offset, limit };
            const full = await store.readStream(streamId, query);
            const wire = await store.wireReads().readStream(streamId, query);
            expect(shape(wire), JSON.stringify(query)).toEqual(shape(full));
          }
        }
      }
    }
    expect(await store.wireReads().readStream(`absent-${randomUUID()}`, wholeStream)).toBeNull();

    const [first] = (await store.readStream(streamId, wholeStream))!.events;
    for (const eventTypes of [[], ['A'], ['absent']]) {
      for (const limit of [1, 5, 1000]) {
        const query = { fromSequence: first!.sequence, limit, eventTypes };
        const full = await store.readAll(query);
        const wire = await store.wireReads().readAll(query);
        expect(wire.nextSequence, JSON.stringify({ eventTypes, limit })).toBe(full.nextSequence);
        expect(wire.events.map((e) => [e.sequence, e.streamId, e.version])).toEqual(
          full.events.map((e) => [e.sequence, e.streamId, e.version]),
        );
      }
    }
  });
});
