import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { eventStoreV1 } from '@k1s0/proto';
import { describe, expect, it } from 'vitest';
import { storedEventToProto } from '../src/grpc/messages.js';
import { encodedEventsField, withEncodedEvents } from '../src/grpc/stored-event-wire.js';
import { type StoredEventRow, toStoredEvent } from '../src/persistence/event-rows.js';
import { formatTimestamp } from '../src/rest/presenters.js';

function row(overrides: Partial<StoredEventRow>): StoredEventRow {
  return {
    sequence: '1',
    stream_id: 'order-1',
    event_id: '0b5f3a52-64e2-4f5c-9f0e-5a5a0e8f4c11',
    event_type: 'OrderPlaced',
    version: '1',
    payload: '{"total": 3000, "order_id": "o-1"}',
    metadata: '{"actor_id": "user-1", "correlation_id": "c-1"}',
    occurred_at: '2026-02-23 10:00:00.123',
    stored_at: '2026-02-23 10:00:01',
    ...overrides,
  };
}

// Rows as PostgreSQL prints them: jsonb text with its spacing, big sequences, non-ASCII text,
// metadata with an empty string, none, or keys of other types (left out, as the mapping does).
const rows = [
  row({}),
  row({ sequence: '9007199254740991', version: '300', stream_id: 'stream-ü-日本', event_type: 'Ä' }),
  row({ payload: '"é"', metadata: '{}' }),
  row({ payload: 'null', metadata: '{"actor_id": "", "causation_id": "x", "extra": 1}' }),
  row({ payload: '[1, 2.50, {"k": "\\n\\u0001"}]', metadata: '{"correlation_id": 7}' }),
  row({ payload: JSON.stringify({ big: 'x'.repeat(70_000) }), sequence: '128', version: '16384' }),
  // Integer-like keys (a JS object reorders them) and an inexact number: re-serialized.
  row({ payload: '{"b": 1, "10": [12345678901234567]}' }),
  // Timestamps as PostgreSQL prints UTC timestamps: any fraction length, five-digit and BC years.
  row({ occurred_at: '2026-02-23 10:00:00.1', stored_at: '2026-02-23 10:00:00.123456' }),
  row({ occurred_at: '12026-02-23 10:00:00.25', stored_at: '0044-03-15 12:00:00 BC' }),
];
const events = rows.map(toStoredEvent);

/** A decoded StoredEvent with its payload as the JSON value it carries. */
function comparable(event: eventStoreV1.StoredEvent) {
  const { payloadJson, $typeName: _t, ...rest } = event;
  return { ...rest, payload: JSON.parse(new TextDecoder().decode(payloadJson)) as unknown };
}

describe('StoredEvent bytes written from the stored text', () => {
  it('decode to the same messages as the ordinary mapping (ReadEvents, repeated field)', () => {
    const head = { streamId: 'order-1', currentVersion: 6n, totalCount: 6n, hasNext: false };
    const encoded = withEncodedEvents(create(eventStoreV1.ReadEventsResponseSchema, head), 2, events);
    expect(encoded).toBeDefined();
    const decoded = fromBinary(
      eventStoreV1.ReadEventsResponseSchema,
      toBinary(eventStoreV1.ReadEventsResponseSchema, encoded!),
    );
    const ordinary = create(eventStoreV1.ReadEventsResponseSchema, {
      ...head,
      events: events.map(storedEventToProto),
    });
    expect(decoded.$unknown).toBeUndefined();
    expect({ ...decoded, events: decoded.events.map(comparable) }).toEqual({
      ...ordinary,
      events: ordinary.events.map(comparable),
    });
  });

  it('decode to the same message for a singular field (SubscribeAll one event per message)', () => {
    const encoded = withEncodedEvents(create(eventStoreV1.SubscribeAllResponseSchema), 1, [events[1]!]);
    const decoded = fromBinary(
      eventStoreV1.SubscribeAllResponseSchema,
      toBinary(eventStoreV1.SubscribeAllResponseSchema, encoded!),
    );
    expect(decoded.events).toEqual([]);
    expect(comparable(decoded.event!)).toEqual(
      comparable(create(eventStoreV1.StoredEventSchema, storedEventToProto(events[1]!))),
    );
  });

  it('carry the timestamps as formatTimestamp writes them and the payload text as stored', () => {
    const decoded = fromBinary(
      eventStoreV1.ReadAllResponseSchema,
      toBinary(
        eventStoreV1.ReadAllResponseSchema,
        withEncodedEvents(create(eventStoreV1.ReadAllResponseSchema), 1, events)!,
      ),
    );
    expect(decoded.events[0]!.occurredAt).toBe(formatTimestamp(events[0]!.occurredAt));
    expect(decoded.events[0]!.storedAt).toBe(formatTimestamp(events[0]!.storedAt));
    // Compact, as the ordinary mapping writes it, not jsonb's `{"a": 1}`: clients may compare bytes.
    expect(new TextDecoder().decode(decoded.events[0]!.payloadJson)).toBe('{"total":3000,"order_id":"o-1"}');
  });

  it('are byte for byte what toBinary writes for the ordinary messages', () => {
    const ordinary = create(eventStoreV1.ReadAllResponseSchema, { events: events.map(storedEventToProto) });
    const encoded = withEncodedEvents(create(eventStoreV1.ReadAllResponseSchema), 1, events)!;
    expect(Buffer.from(toBinary(eventStoreV1.ReadAllResponseSchema, encoded))).toEqual(
      Buffer.from(toBinary(eventStoreV1.ReadAllResponseSchema, ordinary)),
    );
  });

  it('fall back (undefined) for events not read from a row, and for no events', () => {
    const built = { ...events[0]! };
    expect(encodedEventsField(2, [events[0]!, built])).toBeUndefined();
    expect(encodedEventsField(2, [])).toBeUndefined();
  });
});
