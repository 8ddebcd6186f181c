import { create, fromBinary, isFieldSet, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { EventMetadataSchema } from '../src/gen/k1s0/system/common/v1/event_metadata_pb.js';
import {
  ConfigChangedEventSchema,
  ConfigService,
  configV1,
  EventStoreService,
  eventStoreV1,
} from '../src/index.js';

describe('ConfigChangedEvent', () => {
  it('round-trips through the binary wire format', () => {
    const event = create(ConfigChangedEventSchema, {
      metadata: create(EventMetadataSchema, {
        eventId: '5f0c2f4e-8f0a-4a51-9a3e-0c7f6f1d2b11',
        eventType: 'config.changed',
        source: 'config-server',
        timestamp: 1_700_000_000_123n,
        schemaVersion: 1,
      }),
      namespace: 'system.auth.database',
      key: 'max_connections',
      oldValue: '10',
      newValue: '20',
      oldVersion: 1,
      newVersion: 2,
      changeType: 'UPDATED',
      changedBy: 'a@example.com',
    });
    const decoded = fromBinary(ConfigChangedEventSchema, toBinary(ConfigChangedEventSchema, event));
    expect(decoded.metadata?.timestamp).toBe(1_700_000_000_123n);
    expect(decoded.newValue).toBe('20');
    expect(decoded.newVersion).toBe(2);
    expect(decoded.changeType).toBe('UPDATED');
  });
});

describe('AppendEventsRequest extensions', () => {
  it('keeps the optional event_id and aggregate_type when set and reports them absent when not', () => {
    const request = create(eventStoreV1.AppendEventsRequestSchema, {
      streamId: 'order-1',
      expectedVersion: -2n,
      aggregateType: 'order',
      events: [
        { eventType: 'OrderPlaced', payloadJson: new TextEncoder().encode('{"total":1}'), eventId: 'e-1' },
        { eventType: 'OrderPaid', payloadJson: new Uint8Array() },
      ],
    });
    const decoded = fromBinary(
      eventStoreV1.AppendEventsRequestSchema,
      toBinary(eventStoreV1.AppendEventsRequestSchema, request),
    );
    expect(decoded.expectedVersion).toBe(-2n);
    expect(decoded.aggregateType).toBe('order');
    expect(decoded.events.map((e) => e.eventId)).toEqual(['e-1', undefined]);
    const [first, second] = decoded.events;
    expect(first && isFieldSet(first, eventStoreV1.EventDataSchema.field.eventId)).toBe(true);
    expect(second && isFieldSet(second, eventStoreV1.EventDataSchema.field.eventId)).toBe(false);

    const withoutType = fromBinary(
      eventStoreV1.AppendEventsRequestSchema,
      toBinary(eventStoreV1.AppendEventsRequestSchema, create(eventStoreV1.AppendEventsRequestSchema)),
    );
    expect(withoutType.aggregateType).toBeUndefined();
  });

  it('carries WatchConfigRequest.from_revision with explicit presence', () => {
    const zero = create(configV1.WatchConfigRequestSchema, { fromRevision: 0n });
    const decoded = fromBinary(
      configV1.WatchConfigRequestSchema,
      toBinary(configV1.WatchConfigRequestSchema, zero),
    );
    // Presence matters: revision 0 ("replay everything") differs from "live only".
    expect(decoded.fromRevision).toBe(0n);
    expect(create(configV1.WatchConfigRequestSchema).fromRevision).toBeUndefined();
  });
});

describe('service descriptors', () => {
  it('expose the seed RPCs and the additive ones with their streaming kinds', () => {
    expect(ConfigService.typeName).toBe('k1s0.system.config.v1.ConfigService');
    expect(ConfigService.method.watchConfig.methodKind).toBe('server_streaming');
    expect(Object.keys(EventStoreService.method)).toEqual([
      'appendEvents',
      'readEvents',
      'readEventBySequence',
      'createSnapshot',
      'getLatestSnapshot',
      'deleteStream',
      'readAll',
      'subscribeAll',
    ]);
    expect(EventStoreService.method.subscribeAll.methodKind).toBe('server_streaming');
    expect(EventStoreService.method.readAll.methodKind).toBe('unary');
  });
});
