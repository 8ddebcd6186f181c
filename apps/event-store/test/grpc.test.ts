import { randomUUID } from 'node:crypto';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { EventStoreService, type eventStoreV1 } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auth,
  connectClient,
  decodeJson,
  type EventStoreClient,
  encodeJson,
  grpcClient,
} from './support/grpc-client.js';
import { type Harness, startHarness } from './support/service-harness.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;
let h: Harness;
let client: EventStoreClient;

beforeAll(async () => {
  h = await startHarness();
  client = grpcClient(h.grpcUrl);
});

afterAll(async () => {
  await h.stop();
});

async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error).code;
  }
  throw new Error('expected the call to fail');
}

const placed = {
  eventType: 'OrderPlaced',
  payloadJson: encodeJson({ order_id: 'order-001', total_amount: 3000 }),
  metadata: { actorId: 'user-001', correlationId: 'corr_01' },
};

describe('EventStoreService over gRPC', () => {
  it('AppendEvents stores events and answers StoredEvents', async () => {
    const res = await client.appendEvents(
      { streamId: 'order-order-001', events: [placed, placed], expectedVersion: 0n },
      auth('sys_operator'),
    );
    expect(res.streamId).toBe('order-order-001');
    expect(res.currentVersion).toBe(2n);
    const [first] = res.events;
    expect(first).toMatchObject({ streamId: 'order-order-001', eventType: 'OrderPlaced', version: 1n });
    expect(decodeJson(first!.payloadJson)).toEqual({ order_id: 'order-001', total_amount: 3000 });
    expect(first!.metadata).toMatchObject({ actorId: 'user-001', correlationId: 'corr_01' });
    expect(first!.metadata?.causationId).toBeUndefined();
    expect(first!.occurredAt).toMatch(TIMESTAMP);
    expect(first!.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.events[1]!.sequence).toBeGreaterThan(first!.sequence);
  });

  it('AppendEvents error codes: ABORTED, ALREADY_EXISTS, INVALID_ARGUMENT', async () => {
    expect(
      await codeOf(
        client.appendEvents(
          { streamId: 'order-order-001', events: [placed], expectedVersion: 0n },
          auth('sys_operator'),
        ),
      ),
    ).toBe(Code.Aborted);
    expect(
      await codeOf(
        client.appendEvents(
          { streamId: 'order-order-001', events: [placed], expectedVersion: -1n },
          auth('sys_operator'),
        ),
      ),
    ).toBe(Code.AlreadyExists);
    expect(
      await codeOf(
        client.appendEvents(
          {
            streamId: 'g-bad',
            events: [{ eventType: 'X', payloadJson: new TextEncoder().encode('{nope') }],
            expectedVersion: 0n,
          },
          auth('sys_operator'),
        ),
      ),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(
        client.appendEvents({ streamId: 'g-bad', events: [], expectedVersion: 0n }, auth('sys_operator')),
      ),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(
        client.appendEvents(
          { streamId: 'g bad', events: [placed], expectedVersion: 0n },
          auth('sys_operator'),
        ),
      ),
    ).toBe(Code.InvalidArgument);
  });

  it('AppendEvents is idempotent for the same event ids and expected_version', async () => {
    const events = [{ ...placed, eventId: randomUUID() }];
    const first = await client.appendEvents(
      { streamId: 'g-retry', events, expectedVersion: -1n },
      auth('sys_operator'),
    );
    const again = await client.appendEvents(
      { streamId: 'g-retry', events, expectedVersion: -1n },
      auth('sys_operator'),
    );
    expect(again.events.map((e) => e.sequence)).toEqual(first.events.map((e) => e.sequence));
    expect(again.currentVersion).toBe(1n);
  });

  it('ReadEvents pages with proto3 zero values meaning defaults', async () => {
    const res = await client.readEvents({ streamId: 'order-order-001' }, auth('sys_auditor'));
    expect(res.events.map((e) => e.version)).toEqual([1n, 2n]);
    expect(res).toMatchObject({ currentVersion: 2n, totalCount: 2n, hasNext: false });
    const paged = await client.readEvents(
      { streamId: 'order-order-001', fromVersion: 1n, toVersion: 2n, page: 2, pageSize: 1 },
      auth('sys_auditor'),
    );
    expect(paged.events.map((e) => e.version)).toEqual([2n]);
    expect(paged.hasNext).toBe(false);
    // event_type (k1s0 addition, SPEC §6 reads): exact match.
    const placedOnly = await client.readEvents(
      { streamId: 'order-order-001', eventType: 'OrderPlaced' },
      auth('sys_auditor'),
    );
    expect(placedOnly.events.map((e) => e.version)).toEqual([1n, 2n]);
    const none = await client.readEvents(
      { streamId: 'order-order-001', eventType: 'Other' },
      auth('sys_auditor'),
    );
    expect(none).toMatchObject({ events: [], totalCount: 0n });
    expect(await codeOf(client.readEvents({ streamId: 'missing' }, auth('sys_auditor')))).toBe(Code.NotFound);
    expect(
      await codeOf(client.readEvents({ streamId: 'order-order-001', pageSize: 201 }, auth('sys_auditor'))),
    ).toBe(Code.InvalidArgument);
  });

  it('ReadEventBySequence returns the event or NOT_FOUND', async () => {
    const read = await client.readEvents({ streamId: 'order-order-001' }, auth('sys_auditor'));
    const sequence = read.events[0]!.sequence;
    const res = await client.readEventBySequence(
      { streamId: 'order-order-001', sequence },
      auth('sys_auditor'),
    );
    expect(res.event?.version).toBe(1n);
    expect(
      await codeOf(client.readEventBySequence({ streamId: 'g-retry', sequence }, auth('sys_auditor'))),
    ).toBe(Code.NotFound);
    expect(
      await codeOf(client.readEventBySequence({ streamId: 'g-retry', sequence: 0n }, auth('sys_auditor'))),
    ).toBe(Code.InvalidArgument);
  });

  it('CreateSnapshot and GetLatestSnapshot', async () => {
    const created = await client.createSnapshot(
      {
        streamId: 'order-order-001',
        snapshotVersion: 2n,
        aggregateType: 'Order',
        stateJson: encodeJson({ s: 'shipped' }),
      },
      auth('sys_operator'),
    );
    expect(created).toMatchObject({ streamId: 'order-order-001', snapshotVersion: 2n });
    expect(created.id).toMatch(/^snap_/);
    expect(created.createdAt).toMatch(TIMESTAMP);
    const latest = await client.getLatestSnapshot({ streamId: 'order-order-001' }, auth('sys_auditor'));
    expect(latest.snapshot).toMatchObject({ id: created.id, aggregateType: 'Order', snapshotVersion: 2n });
    expect(decodeJson(latest.snapshot!.stateJson)).toEqual({ s: 'shipped' });
    expect(
      await codeOf(
        client.createSnapshot(
          { streamId: 'order-order-001', snapshotVersion: 1n, stateJson: encodeJson(null).slice(0, 2) },
          auth('sys_operator'),
        ),
      ),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(
        client.createSnapshot(
          { streamId: 'order-order-001', snapshotVersion: 3n, stateJson: encodeJson({}) },
          auth('sys_operator'),
        ),
      ),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getLatestSnapshot({ streamId: 'g-retry' }, auth('sys_auditor')))).toBe(
      Code.NotFound,
    );
  });

  it('ReadAll pages the global log with next_sequence', async () => {
    const all = await client.readAll({}, auth('sys_auditor'));
    expect(all.events.length).toBe(3);
    const first = await client.readAll({ limit: 1 }, auth('sys_auditor'));
    expect(first.events).toHaveLength(1);
    const rest = await client.readAll({ fromSequence: first.nextSequence, limit: 10 }, auth('sys_auditor'));
    expect([...first.events, ...rest.events].map((e) => e.sequence)).toEqual(
      all.events.map((e) => e.sequence),
    );
    expect(await codeOf(client.readAll({ limit: 1001 }, auth('sys_auditor')))).toBe(Code.InvalidArgument);
  });

  it('DeleteStream needs sys_admin and removes the stream', async () => {
    expect(await codeOf(client.deleteStream({ streamId: 'g-retry' }, auth('sys_operator')))).toBe(
      Code.PermissionDenied,
    );
    const res = await client.deleteStream({ streamId: 'g-retry' }, auth('sys_admin'));
    expect(res).toMatchObject({ success: true, message: 'stream g-retry and all related data deleted' });
    expect(await codeOf(client.deleteStream({ streamId: 'g-retry' }, auth('sys_admin')))).toBe(Code.NotFound);
  });

  it('enforces authentication and the role matrix on every RPC', async () => {
    const calls: Array<
      [
        string,
        (opts: { headers: Record<string, string> }) => Promise<unknown>,
        'sys_auditor' | 'sys_operator' | 'sys_admin',
      ]
    > = [
      [
        'AppendEvents',
        (o) => client.appendEvents({ streamId: 'g-auth', events: [placed], expectedVersion: -2n }, o),
        'sys_operator',
      ],
      ['ReadEvents', (o) => client.readEvents({ streamId: 'g-auth' }, o), 'sys_auditor'],
      [
        'ReadEventBySequence',
        (o) => client.readEventBySequence({ streamId: 'g-auth', sequence: 1n }, o),
        'sys_auditor',
      ],
      [
        'CreateSnapshot',
        (o) =>
          client.createSnapshot({ streamId: 'g-auth', snapshotVersion: 0n, stateJson: encodeJson({}) }, o),
        'sys_operator',
      ],
      ['GetLatestSnapshot', (o) => client.getLatestSnapshot({ streamId: 'g-auth' }, o), 'sys_auditor'],
      ['ReadAll', (o) => client.readAll({}, o), 'sys_auditor'],
      ['DeleteStream', (o) => client.deleteStream({ streamId: 'g-none' }, o), 'sys_admin'],
    ];
    const ranks = { none: 0, sys_auditor: 1, sys_operator: 2, sys_admin: 3 } as const;
    for (const [name, call, required] of calls) {
      expect(await codeOf(call({ headers: {} })), name).toBe(Code.Unauthenticated);
      expect(await codeOf(call({ headers: { authorization: 'Bearer junk' } })), name).toBe(
        Code.Unauthenticated,
      );
      for (const role of ['none', 'sys_auditor', 'sys_operator', 'sys_admin'] as const) {
        const outcome = await call(auth(role)).then(
          () => Code.Unknown,
          (error: unknown) => ConnectError.from(error).code,
        );
        if (ranks[role] < ranks[required]) expect(outcome, `${name} as ${role}`).toBe(Code.PermissionDenied);
        else expect([Code.Unknown, Code.NotFound], `${name} as ${role}`).toContain(outcome);
      }
    }
    const stream = client.subscribeAll({}, { headers: {} });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it('serves the Connect protocol over HTTP/1.1 on the REST port', async () => {
    const connect = connectClient(h.baseUrl);
    const res = await connect.readEvents({ streamId: 'order-order-001' }, auth('sys_auditor'));
    expect(res.totalCount).toBe(2n);
    expect(await codeOf(connect.readEvents({ streamId: 'missing' }, auth('sys_auditor')))).toBe(
      Code.NotFound,
    );
  });

  it('a page reads the same over gRPC (events encoded from the stored text), Connect JSON, Connect binary and REST', async () => {
    const streamId = `wire-${randomUUID()}`;
    await client.appendEvents(
      {
        streamId,
        events: [
          placed,
          { eventType: 'Noted', payloadJson: encodeJson({ text: 'é 日本 \n', list: [1.5, null, true] }) },
          { eventType: 'Bare', payloadJson: encodeJson('just text'), metadata: { causationId: '' } },
          // jsonb texts a JS object would print differently (compactJsonbText falls back) or alike.
          { eventType: 'Keys', payloadJson: encodeJson({ b: { '2': [1, 2] }, '10': 1, a: 'x', '01': 0 }) },
          {
            eventType: 'Numbers',
            payloadJson: new TextEncoder().encode(
              '{"n": 12345678901234567, "f": 2.50, "e": 1e3, "neg": -7, "z": 0, "max15": 999999999999999}',
            ),
          },
          {
            eventType: 'Strings',
            payloadJson: encodeJson({ s: 'a, b: "c" \\ \u0001 \u2028 {"x": 1}', t: '\\', u: ['', ' ', '"'] }),
          },
          { eventType: 'Empty', payloadJson: encodeJson({ o: {}, a: [], deep: [[{}], { k: [] }] }) },
        ],
      },
      auth('sys_operator'),
    );
    const comparable = (events: { payloadJson: Uint8Array }[]) =>
      events.map(({ payloadJson, ...rest }) => ({ ...rest, payload: decodeJson(payloadJson) }));
    const request = { streamId, pageSize: 10 };
    const viaGrpc = await client.readEvents(request, auth('sys_auditor'));
    const viaJson = await connectClient(h.baseUrl).readEvents(request, auth('sys_auditor'));
    const viaBinary = await createClient(
      EventStoreService,
      createConnectTransport({ baseUrl: h.baseUrl, httpVersion: '1.1', useBinaryFormat: true }),
    ).readEvents(request, auth('sys_auditor'));
    expect(viaGrpc.events).toHaveLength(7);
    expect(comparable(viaGrpc.events)).toEqual(comparable(viaJson.events));
    // Byte for byte: the JSON codec's payload_json is the ordinary mapping (JSON.stringify).
    expect(viaGrpc.events.map((e) => Buffer.from(e.payloadJson).toString())).toEqual(
      viaJson.events.map((e) => Buffer.from(e.payloadJson).toString()),
    );
    expect(comparable(viaBinary.events)).toEqual(comparable(viaJson.events));
    expect({ ...viaGrpc, events: [] }).toEqual({ ...viaJson, events: [] });
    const rest = await h.call('GET', `/api/v1/streams/${streamId}/events`, { role: 'sys_auditor' });
    const restEvents = (rest.body as { events: Record<string, unknown>[] }).events;
    expect(viaGrpc.events.map((e) => [e.occurredAt, e.storedAt, e.sequence])).toEqual(
      restEvents.map((e) => [e.occurred_at, e.stored_at, BigInt(e.sequence as number)]),
    );
    expect(viaGrpc.events[2]!.metadata).toEqual(viaJson.events[2]!.metadata);
    expect(viaGrpc.events[2]!.metadata?.causationId).toBe('');
    // ReadAll and SubscribeAll (batched and not) carry the same encoded events.
    const [first] = viaGrpc.events;
    const all = await client.readAll({ fromSequence: first!.sequence, limit: 7 }, auth('sys_auditor'));
    expect(comparable(all.events)).toEqual(comparable(viaGrpc.events));
    for (const batch of [false, true]) {
      const controller = new AbortController();
      const received: eventStoreV1.StoredEvent[] = [];
      for await (const message of client.subscribeAll(
        { fromSequence: first!.sequence, batch },
        { ...auth('sys_auditor'), signal: controller.signal },
      )) {
        received.push(...(message.event ? [message.event] : []), ...message.events);
        if (received.length >= 7) break;
      }
      expect(comparable(received.slice(0, 7))).toEqual(comparable(viaGrpc.events));
    }
  });
});
