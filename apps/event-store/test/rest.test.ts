import { randomUUID } from 'node:crypto';
import { tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/service-harness.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.stop();
});

const orderPlaced = {
  event_type: 'OrderPlaced',
  payload: { order_id: 'order-001', total_amount: 3000 },
  metadata: { actor_id: 'user-001', correlation_id: 'corr_01', causation_id: null },
};

function append(stream: string, body: unknown, role: 'sys_operator' | 'sys_auditor' = 'sys_operator') {
  return h.call('POST', `/api/v1/streams/${stream}/events`, { role, body });
}

describe('POST /api/v1/streams/:stream_id/events', () => {
  it('appends and answers 201 with the spec 002 shape', async () => {
    const res = await append('order-order-001', { events: [orderPlaced], expected_version: 0 });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(['stream_id', 'events', 'current_version']);
    expect(res.body.stream_id).toBe('order-order-001');
    expect(res.body.current_version).toBe(1);
    const [event] = res.body.events;
    expect(Object.keys(event)).toEqual([
      'stream_id',
      'sequence',
      'event_id',
      'event_type',
      'version',
      'payload',
      'metadata',
      'occurred_at',
      'stored_at',
    ]);
    expect(event).toMatchObject({
      stream_id: 'order-order-001',
      event_type: 'OrderPlaced',
      version: 1,
      payload: orderPlaced.payload,
      metadata: orderPlaced.metadata,
    });
    expect(typeof event.sequence).toBe('number');
    expect(event.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.occurred_at).toMatch(TIMESTAMP);
    expect(event.stored_at).toMatch(TIMESTAMP);
  });

  it('keeps a given occurred_at and event_id, and appends with -2 at any version', async () => {
    const eventId = randomUUID().toUpperCase();
    const res = await append('order-order-001', {
      events: [
        {
          ...orderPlaced,
          event_type: 'OrderShipped',
          event_id: eventId,
          occurred_at: '2026-02-23T14:00:00+09:00',
        },
      ],
      expected_version: -2,
    });
    expect(res.status).toBe(201);
    expect(res.body.events[0]).toMatchObject({
      version: 2,
      event_id: eventId.toLowerCase(),
      occurred_at: '2026-02-23T05:00:00.000+00:00',
    });
  });

  it('409 VERSION_CONFLICT with expected/actual details (spec 002)', async () => {
    const res = await h.call('POST', '/api/v1/streams/order-order-001/events', {
      role: 'sys_operator',
      body: { events: [orderPlaced], expected_version: 0 },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'SYS_EVSTORE_VERSION_CONFLICT',
      message: 'version conflict for stream order-order-001: expected 0, actual 2',
      details: [
        { field: 'expected_version', message: '0' },
        { field: 'actual_version', message: '2' },
      ],
    });
    expect(typeof res.body.error.request_id).toBe('string');
  });

  it('409 STREAM_ALREADY_EXISTS for expected_version -1 on an existing stream', async () => {
    const res = await append('order-order-001', { events: [orderPlaced], expected_version: -1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('SYS_EVSTORE_STREAM_ALREADY_EXISTS');
  });

  it('treats an exact retry as idempotent and a partial reuse of ids as DUPLICATE_EVENT_ID', async () => {
    const events = [
      { ...orderPlaced, event_id: randomUUID() },
      { ...orderPlaced, event_id: randomUUID() },
    ];
    const first = await append('retry-1', { events, expected_version: -1 });
    const again = await append('retry-1', { events, expected_version: -1 });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const read = await h.call('GET', '/api/v1/streams/retry-1/events', { role: 'sys_auditor' });
    expect(read.body.pagination.total_count).toBe(2);
    const partial = await append('retry-1', { events: [events[1], orderPlaced], expected_version: 2 });
    expect(partial.status).toBe(409);
    expect(partial.body.error.code).toBe('SYS_EVSTORE_DUPLICATE_EVENT_ID');
    expect(partial.body.error.details[0].field).toBe('events[0].event_id');
  });

  it('400 VALIDATION_ERROR naming the fields', async () => {
    const missing = await append('val-1', { events: [{ payload: {} }] });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('SYS_EVSTORE_VALIDATION_ERROR');
    const fields = missing.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['events[0].event_type', 'expected_version']));

    const domain = await append('val-1', {
      events: [{ event_type: ' ', payload: 1, event_id: 'nope', metadata: { actor_id: 5 } }],
      expected_version: -3,
    });
    expect(domain.status).toBe(400);
    expect(domain.body.error.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['expected_version', 'events[0].event_type', 'events[0].event_id']),
    );

    const tooMany = await append('val-1', {
      events: Array.from({ length: 101 }, () => orderPlaced),
      expected_version: -2,
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details).toEqual([
      { field: 'events', message: 'at most 100 events per append' },
    ]);

    const none = await append('val-1', { events: [], expected_version: 0 });
    expect(none.body.error.details[0].field).toBe('events');

    const badId = await append('bad%20id', { events: [orderPlaced], expected_version: 0 });
    expect(badId.status).toBe(400);
    expect(badId.body.error.details[0].field).toBe('stream_id');

    const badTime = await append('val-1', {
      events: [{ ...orderPlaced, occurred_at: 'yesterday' }],
      expected_version: 0,
    });
    expect(badTime.body.error.details[0].field).toBe('events[0].occurred_at');
  });

  it('deletes a stream when the DELETE carries Content-Type: application/json and no body', async () => {
    const append = await h.call('POST', '/api/v1/streams/ct-delete-1/events', {
      role: 'sys_operator',
      body: { expected_version: -1, events: [{ event_type: 'A', payload: {} }] },
    });
    expect(append.status).toBe(201);
    const res = await fetch(`${h.baseUrl}/api/v1/streams/ct-delete-1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokenFor('sys_admin')}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
  });

  it('400 naming the field for text PostgreSQL cannot store (U+0000, unpaired surrogates), writing nothing', async () => {
    const cases: Array<[object, string]> = [
      [{ event_type: 'A', payload: { s: 'a\u0000b' } }, 'events[0].payload.s'],
      [{ event_type: 'A', payload: ['x', 'a\udc00'] }, 'events[0].payload[1]'],
      [{ event_type: 'A\u0000', payload: {} }, 'events[0].event_type'],
      [{ event_type: 'A', payload: {}, metadata: { actor_id: 'a\u0000' } }, 'events[0].metadata.actor_id'],
    ];
    for (const [event, field] of cases) {
      const res = await append('nul-1', { expected_version: -2, events: [event] });
      expect(res.status, field).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
    expect((await h.call('GET', '/api/v1/streams/nul-1/events', { role: 'sys_auditor' })).status).toBe(404);
    const query = await h.call('GET', '/api/v1/events?event_type=a%00b', { role: 'sys_auditor' });
    expect(query.status).toBe(400);
    expect(query.body.error.details[0].field).toBe('event_type');
  });

  it('400 for malformed JSON, with the request id echoed', async () => {
    const res = await fetch(`${h.baseUrl}/api/v1/streams/x/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokenFor('sys_operator')}`,
        'content-type': 'application/json',
        'x-request-id': 'req-malformed-1',
      },
      body: '{"events": [',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('req-malformed-1');
    const body = (await res.json()) as { error: { code: string; request_id: string } };
    expect(body.error).toMatchObject({ code: 'SYS_EVSTORE_VALIDATION_ERROR', request_id: 'req-malformed-1' });
  });
});

describe('GET /api/v1/streams/:stream_id/events', () => {
  beforeAll(async () => {
    const events = ['A', 'B', 'A', 'C', 'A'].map((type, i) => ({ event_type: type, payload: { i } }));
    expect((await append('page-1', { events, expected_version: 0 })).status).toBe(201);
  });

  it('pages with the spec 002 pagination object', async () => {
    const res = await h.call('GET', '/api/v1/streams/page-1/events?page=2&page_size=2', {
      role: 'sys_auditor',
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['stream_id', 'events', 'current_version', 'pagination']);
    expect(res.body.events.map((e: { version: number }) => e.version)).toEqual([3, 4]);
    expect(res.body.current_version).toBe(5);
    expect(res.body.pagination).toEqual({ total_count: 5, page: 2, page_size: 2, has_next: true });
  });

  it('defaults to page 1 of 50 and filters by version range and event type', async () => {
    const all = await h.call('GET', '/api/v1/streams/page-1/events', { role: 'sys_auditor' });
    expect(all.body.pagination).toEqual({ total_count: 5, page: 1, page_size: 50, has_next: false });
    const range = await h.call(
      'GET',
      '/api/v1/streams/page-1/events?from_version=2&to_version=4&event_type=A',
      {
        role: 'sys_auditor',
      },
    );
    expect(range.body.events.map((e: { version: number }) => e.version)).toEqual([3]);
    expect(range.body.pagination.total_count).toBe(1);
  });

  it('pages and counts version ranges (no event type: arithmetic on the dense versions) exactly', async () => {
    for (const from of [1, 2, 5, 6]) {
      for (const to of [undefined, 1, 3, 5, 9]) {
        if (to !== undefined && to < from) continue;
        for (const [page, size] of [
          [1, 1],
          [2, 2],
          [3, 2],
          [1, 50],
          [2, 50],
        ] as const) {
          const range = [1, 2, 3, 4, 5].filter((v) => v >= from && (to === undefined || v <= to));
          const query = `from_version=${from}${to === undefined ? '' : `&to_version=${to}`}&page=${page}&page_size=${size}`;
          const res = await h.call('GET', `/api/v1/streams/page-1/events?${query}`, { role: 'sys_auditor' });
          expect(res.status, query).toBe(200);
          expect(
            res.body.events.map((e: { version: number }) => e.version),
            query,
          ).toEqual(range.slice((page - 1) * size, page * size));
          expect(res.body.pagination.total_count, query).toBe(range.length);
        }
      }
    }
  });

  it('orders pages by numeric version past 9 (10 after 9, not after 1)', async () => {
    const events = Array.from({ length: 12 }, (_, i) => ({ event_type: 'N', payload: { i } }));
    expect((await append('page-numeric', { events, expected_version: 0 })).status).toBe(201);
    const versions = async (query: string) =>
      (
        await h.call('GET', `/api/v1/streams/page-numeric/events?${query}`, { role: 'sys_auditor' })
      ).body.events.map((e: { version: number }) => e.version);
    expect(await versions('page=1&page_size=12')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await versions('page=2&page_size=5')).toEqual([6, 7, 8, 9, 10]);
  });

  it('400 naming the bad query parameter', async () => {
    for (const [query, field] of [
      ['page=abc', 'page'],
      ['page=0', 'page'],
      ['page_size=201', 'page_size'],
      ['page_size=1.5', 'page_size'],
      ['from_version=-1', 'from_version'],
      ['from_version=4&to_version=2', 'to_version'],
    ] as const) {
      const res = await h.call('GET', `/api/v1/streams/page-1/events?${query}`, { role: 'sys_auditor' });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('SYS_EVSTORE_VALIDATION_ERROR');
      expect(res.body.error.details[0].field, query).toBe(field);
    }
  });

  it('404 STREAM_NOT_FOUND for a missing stream', async () => {
    const res = await h.call('GET', '/api/v1/streams/order-order-999/events', { role: 'sys_auditor' });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'SYS_EVSTORE_STREAM_NOT_FOUND',
      message: 'stream not found: order-order-999',
      details: [],
    });
  });
});

describe('GET /api/v1/streams/:stream_id/events/:sequence', () => {
  it('returns the event, and 404 EVENT_NOT_FOUND when absent or in another stream', async () => {
    const created = await append('seq-1', { events: [orderPlaced], expected_version: 0 });
    const { sequence } = created.body.events[0];
    const ok = await h.call('GET', `/api/v1/streams/seq-1/events/${sequence}`, { role: 'sys_auditor' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(created.body.events[0]);
    for (const path of [`/api/v1/streams/page-1/events/${sequence}`, '/api/v1/streams/seq-1/events/999999']) {
      const res = await h.call('GET', path, { role: 'sys_auditor' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('SYS_EVSTORE_EVENT_NOT_FOUND');
    }
    for (const bad of ['abc', '0', '-1', '9223372036854775808']) {
      const res = await h.call('GET', `/api/v1/streams/seq-1/events/${bad}`, { role: 'sys_auditor' });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.details[0].field).toBe('sequence');
    }
  });
});

describe('snapshots', () => {
  it('creates (201) and reads the latest (200) with the spec 002 shapes', async () => {
    await append('snap-1', { events: [orderPlaced, orderPlaced], expected_version: 0 });
    const state = { order_id: 'order-001', status: 'shipped' };
    const created = await h.call('POST', '/api/v1/streams/snap-1/snapshots', {
      role: 'sys_operator',
      body: { snapshot_version: 2, aggregate_type: 'Order', state },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body)).toEqual([
      'id',
      'stream_id',
      'snapshot_version',
      'aggregate_type',
      'created_at',
    ]);
    expect(created.body).toMatchObject({ stream_id: 'snap-1', snapshot_version: 2, aggregate_type: 'Order' });
    expect(created.body.id).toMatch(/^snap_/);
    expect(created.body.created_at).toMatch(TIMESTAMP);
    await h.call('POST', '/api/v1/streams/snap-1/snapshots', {
      role: 'sys_operator',
      body: { snapshot_version: 1, state: { older: true } },
    });

    const latest = await h.call('GET', '/api/v1/streams/snap-1/snapshots/latest', { role: 'sys_auditor' });
    expect(latest.status).toBe(200);
    expect(latest.body).toEqual({ ...created.body, state });
    expect(Object.keys(latest.body)).toEqual([
      'id',
      'stream_id',
      'snapshot_version',
      'aggregate_type',
      'state',
      'created_at',
    ]);
  });

  it('400 for a version beyond the stream, 404 for missing stream or snapshot', async () => {
    const beyond = await h.call('POST', '/api/v1/streams/snap-1/snapshots', {
      role: 'sys_operator',
      body: { snapshot_version: 3, state: {} },
    });
    expect(beyond.status).toBe(400);
    expect(beyond.body.error.details[0].field).toBe('snapshot_version');
    const noState = await h.call('POST', '/api/v1/streams/snap-1/snapshots', {
      role: 'sys_operator',
      body: { snapshot_version: 1 },
    });
    expect(noState.body.error.details[0].field).toBe('state');
    const noStream = await h.call('POST', '/api/v1/streams/snap-none/snapshots', {
      role: 'sys_operator',
      body: { snapshot_version: 0, state: {} },
    });
    expect(noStream.status).toBe(404);
    expect(noStream.body.error.code).toBe('SYS_EVSTORE_STREAM_NOT_FOUND');
    await append('snap-2', { events: [orderPlaced], expected_version: 0 });
    const none = await h.call('GET', '/api/v1/streams/snap-2/snapshots/latest', { role: 'sys_auditor' });
    expect(none.status).toBe(404);
    expect(none.body.error).toMatchObject({
      code: 'SYS_EVSTORE_SNAPSHOT_NOT_FOUND',
      message: 'no snapshot found for stream: snap-2',
    });
  });
});

describe('DELETE /api/v1/streams/:stream_id', () => {
  it('deletes the stream and its data, records the actor, then 404s', async () => {
    await append('del-1', { events: [orderPlaced, orderPlaced], expected_version: 0 });
    await h.call('POST', '/api/v1/streams/del-1/snapshots', {
      role: 'sys_operator',
      body: { snapshot_version: 1, state: {} },
    });
    const res = await h.call('DELETE', '/api/v1/streams/del-1', { role: 'sys_admin' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'stream del-1 and all related data deleted' });
    expect((await h.call('GET', '/api/v1/streams/del-1/events', { role: 'sys_auditor' })).status).toBe(404);
    expect((await h.call('DELETE', '/api/v1/streams/del-1', { role: 'sys_admin' })).status).toBe(404);
    const rows = await h.service.database.sql`
      select deleted_by, deleted_events, deleted_snapshots from event_store.stream_deletions where stream_id = 'del-1'`;
    expect(rows).toEqual([{ deleted_by: 'sys_admin@example.com', deleted_events: 2, deleted_snapshots: 1 }]);
  });
});

describe('GET /api/v1/events (global replay)', () => {
  it('reads the global log in order from a sequence, with limit, type filter and next_sequence', async () => {
    const all = await h.call('GET', '/api/v1/events?limit=1000', { role: 'sys_auditor' });
    expect(all.status).toBe(200);
    expect(Object.keys(all.body)).toEqual(['events', 'next_sequence']);
    const sequences: number[] = all.body.events.map((e: { sequence: number }) => e.sequence);
    expect(sequences.length).toBeGreaterThan(5);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(all.body.next_sequence).toBe(sequences[sequences.length - 1]! + 1);

    const second = sequences[1]!;
    const page = await h.call('GET', `/api/v1/events?from_sequence=${second}&limit=2`, {
      role: 'sys_auditor',
    });
    expect(page.body.events.map((e: { sequence: number }) => e.sequence)).toEqual(sequences.slice(1, 3));
    expect(page.body.next_sequence).toBe(sequences[2]! + 1);

    const typed = await h.call('GET', '/api/v1/events?event_type=C&event_type=B', { role: 'sys_auditor' });
    expect(typed.body.events.map((e: { event_type: string }) => e.event_type)).toEqual(['B', 'C']);
  });

  it('400 for bad from_sequence / limit', async () => {
    for (const [query, field] of [
      ['from_sequence=-1', 'from_sequence'],
      ['from_sequence=x', 'from_sequence'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['event_type=', 'event_type'],
      [`event_type=${'T'.repeat(256)}`, 'event_type'],
    ] as const) {
      const res = await h.call('GET', `/api/v1/events?${query}`, { role: 'sys_auditor' });
      expect(res.status, query).toBe(400);
      expect(res.body.error.details[0].field, query).toBe(field);
    }
  });
});

describe('authentication and the role matrix (SPEC §3)', () => {
  const endpoints = [
    {
      method: 'POST',
      path: '/api/v1/streams/auth-1/events',
      body: { events: [orderPlaced], expected_version: -2 },
      role: 'sys_operator',
    },
    { method: 'GET', path: '/api/v1/streams/auth-1/events', role: 'sys_auditor' },
    { method: 'GET', path: '/api/v1/streams/auth-1/events/1', role: 'sys_auditor' },
    {
      method: 'POST',
      path: '/api/v1/streams/auth-1/snapshots',
      body: { snapshot_version: 0, state: {} },
      role: 'sys_operator',
    },
    { method: 'GET', path: '/api/v1/streams/auth-1/snapshots/latest', role: 'sys_auditor' },
    { method: 'GET', path: '/api/v1/events', role: 'sys_auditor' },
    { method: 'DELETE', path: '/api/v1/streams/auth-1', role: 'sys_admin' },
  ] as const;
  const ranks = { none: 0, sys_auditor: 1, sys_operator: 2, sys_admin: 3 } as const;

  it('401 UNAUTHORIZED without or with an invalid token', async () => {
    for (const endpoint of endpoints) {
      const res = await h.call(endpoint.method, endpoint.path, {
        body: 'body' in endpoint ? endpoint.body : undefined,
      });
      expect(res.status, endpoint.path).toBe(401);
      expect(res.body.error.code).toBe('SYS_EVSTORE_UNAUTHORIZED');
      const bad = await fetch(`${h.baseUrl}${endpoint.path}`, {
        method: endpoint.method,
        headers: { authorization: 'Bearer not.a.jwt' },
      });
      expect(bad.status).toBe(401);
    }
    // Authentication comes before the body: an anonymous malformed body is still a 401.
    const anonymousMalformed = await fetch(`${h.baseUrl}/api/v1/streams/auth-1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"events": [',
    });
    expect(anonymousMalformed.status).toBe(401);
  });

  it('403 PERMISSION_DENIED below the required role, allowed at or above it', async () => {
    for (const endpoint of endpoints) {
      for (const role of ['none', 'sys_auditor', 'sys_operator', 'sys_admin'] as const) {
        const res = await h.call(endpoint.method, endpoint.path, {
          role,
          body: 'body' in endpoint ? endpoint.body : undefined,
        });
        const allowed = ranks[role] >= ranks[endpoint.role];
        if (allowed) {
          expect([200, 201, 404], `${role} ${endpoint.method} ${endpoint.path}`).toContain(res.status);
        } else {
          expect(res.status, `${role} ${endpoint.method} ${endpoint.path}`).toBe(403);
          expect(res.body.error.code).toBe('SYS_EVSTORE_PERMISSION_DENIED');
        }
      }
    }
  });

  it('keeps /healthz, /readyz and /metrics public', async () => {
    expect((await h.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await h.call('GET', '/readyz')).status).toBe(200);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toContain('event_store_http_requests_total');
    // Kafka is off here: the relay's metrics are still there, the lag counting what waits.
    expect(metrics).toContain('# TYPE event_store_relay_errors_total counter');
    const lag = /^event_store_relay_lag_events (\d+)$/m.exec(metrics);
    expect(Number(lag?.[1])).toBeGreaterThan(0);
  });
});
