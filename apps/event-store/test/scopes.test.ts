import { Code, ConnectError } from '@connectrpc/connect';
import type { Role } from '@k1s0/platform';
import { codeOf, tokenFor, waitFor } from '@k1s0/platform/testing';
import type { eventStoreV1 } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventStoreClient, encodeJson, grpcClient } from './support/grpc-client.js';
import { type Harness, startHarness } from './support/service-harness.js';

// SPEC §8 scopes on the event store, for every route and RPC: a caller scoped to `order.*` works on
// streams `order.<anything>`, gets 403 PERMISSION_DENIED for any other stream (existing or not),
// and finds other streams' events silently left out of the global log (ReadAll, GET /api/v1/events,
// SubscribeAll), whose cursor still moves past them.

let h: Harness;
let client: EventStoreClient;

const SCOPES = ['order.*'];
const scopedToken = (role: Role) => tokenFor(role, `scoped-${role}@example.com`, { scopes: SCOPES });
const unscopedToken = (role: Role) => tokenFor(role);

const IN = 'order.1';
/** Exists, outside the scopes. */
const OUT = 'invoice.1';
/** The prefix itself: `order.*` does not cover it. */
const PREFIX_ITSELF = 'order';
/** Never written. */
const NOWHERE = 'invoice.none';

interface CallOptions {
  token: string;
  body?: unknown;
}

async function call(method: string, path: string, options: CallOptions) {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${h.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted structurally
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

function expectDenied(res: { status: number; body: { error?: { code: string } } }) {
  expect(res.status).toBe(403);
  expect(res.body.error).toMatchObject({ code: 'SYS_EVSTORE_PERMISSION_DENIED', details: [] });
}

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

const appendBody = (count = 1, expected_version = -2) => ({
  expected_version,
  events: Array.from({ length: count }, (_, i) => ({ event_type: 'Scoped', payload: { i } })),
});

/** Unscoped append (the setup writes every stream this way). */
async function seed(streamId: string, count = 1) {
  const res = await call('POST', `/api/v1/streams/${streamId}/events`, {
    token: unscopedToken('sys_operator'),
    body: appendBody(count),
  });
  expect(res.status).toBe(201);
  return res.body as { events: { sequence: number }[]; current_version: number };
}

async function currentVersion(streamId: string): Promise<number | undefined> {
  const res = await call('GET', `/api/v1/streams/${streamId}/events`, { token: unscopedToken('sys_admin') });
  return res.status === 404 ? undefined : res.body.current_version;
}

/** Every event of the global log as an unscoped auditor sees it: [sequence, stream id]. */
async function wholeLog(): Promise<Array<[number, string]>> {
  const all: Array<[number, string]> = [];
  for (let from = 0; ; ) {
    const res = await call('GET', `/api/v1/events?from_sequence=${from}&limit=1000`, {
      token: unscopedToken('sys_auditor'),
    });
    if (res.body.events.length === 0) return all;
    for (const e of res.body.events) all.push([e.sequence, e.stream_id]);
    from = res.body.next_sequence;
  }
}
const inScopePart = (log: Array<[number, string]>) => log.filter(([, s]) => s.startsWith('order.'));

let outSequence: number;
let inSequence: number;

beforeAll(async () => {
  h = await startHarness();
  client = grpcClient(h.grpcUrl);
  inSequence = (await seed(IN, 2)).events[0]!.sequence;
  outSequence = (await seed(OUT, 2)).events[0]!.sequence;
  await seed(PREFIX_ITSELF);
  // A snapshot outside the scopes, so "latest snapshot" is refused for one that exists.
  const snap = await call('POST', `/api/v1/streams/${OUT}/snapshots`, {
    token: unscopedToken('sys_operator'),
    body: { snapshot_version: 1, state: { n: 1 } },
  });
  expect(snap.status).toBe(201);
});
afterAll(async () => h?.stop());

describe('REST, scoped caller', () => {
  it('POST events: in scope 201; outside 403 and nothing is appended (existing or new stream)', async () => {
    const ok = await call('POST', '/api/v1/streams/order.rest-append/events', {
      token: scopedToken('sys_operator'),
      body: appendBody(),
    });
    expect(ok.status).toBe(201);
    for (const streamId of [OUT, NOWHERE, PREFIX_ITSELF]) {
      expectDenied(
        await call('POST', `/api/v1/streams/${streamId}/events`, {
          token: scopedToken('sys_operator'),
          body: appendBody(),
        }),
      );
    }
    expect(await currentVersion(OUT)).toBe(2);
    expect(await currentVersion(NOWHERE)).toBeUndefined();
    expect(await currentVersion(PREFIX_ITSELF)).toBe(1);
  });

  it('GET stream events: in scope 200; outside 403, existing or not', async () => {
    const ok = await call('GET', `/api/v1/streams/${IN}/events`, { token: scopedToken('sys_auditor') });
    expect(ok.status).toBe(200);
    expect(ok.body.events).toHaveLength(2);
    for (const streamId of [OUT, NOWHERE, PREFIX_ITSELF]) {
      expectDenied(
        await call('GET', `/api/v1/streams/${streamId}/events`, { token: scopedToken('sys_auditor') }),
      );
    }
  });

  it('GET event by sequence: in scope 200; outside 403, existing or not', async () => {
    const ok = await call('GET', `/api/v1/streams/${IN}/events/${inSequence}`, {
      token: scopedToken('sys_auditor'),
    });
    expect(ok.status).toBe(200);
    expect(ok.body.stream_id).toBe(IN);
    expectDenied(
      await call('GET', `/api/v1/streams/${OUT}/events/${outSequence}`, {
        token: scopedToken('sys_auditor'),
      }),
    );
    expectDenied(
      await call('GET', `/api/v1/streams/${NOWHERE}/events/1`, { token: scopedToken('sys_auditor') }),
    );
  });

  it('POST snapshots: in scope 201; outside 403 and nothing is stored', async () => {
    const ok = await call('POST', `/api/v1/streams/${IN}/snapshots`, {
      token: scopedToken('sys_operator'),
      body: { snapshot_version: 2, state: { total: 2 } },
    });
    expect(ok.status).toBe(201);
    for (const streamId of [OUT, NOWHERE]) {
      expectDenied(
        await call('POST', `/api/v1/streams/${streamId}/snapshots`, {
          token: scopedToken('sys_operator'),
          body: { snapshot_version: 2, state: { hijacked: true } },
        }),
      );
    }
    const latestOut = await call('GET', `/api/v1/streams/${OUT}/snapshots/latest`, {
      token: unscopedToken('sys_auditor'),
    });
    expect(latestOut.body.snapshot_version).toBe(1);
  });

  it('GET latest snapshot: in scope 200; outside 403, existing or not', async () => {
    await call('POST', `/api/v1/streams/${IN}/snapshots`, {
      token: unscopedToken('sys_operator'),
      body: { snapshot_version: 1, state: {} },
    });
    const ok = await call('GET', `/api/v1/streams/${IN}/snapshots/latest`, {
      token: scopedToken('sys_auditor'),
    });
    expect(ok.status).toBe(200);
    for (const streamId of [OUT, NOWHERE]) {
      expectDenied(
        await call('GET', `/api/v1/streams/${streamId}/snapshots/latest`, {
          token: scopedToken('sys_auditor'),
        }),
      );
    }
  });

  it('DELETE stream: in scope 200; outside 403 and the stream stays', async () => {
    await seed('order.rest-delete');
    const ok = await call('DELETE', '/api/v1/streams/order.rest-delete', { token: scopedToken('sys_admin') });
    expect(ok.status).toBe(200);
    for (const streamId of [OUT, NOWHERE]) {
      expectDenied(await call('DELETE', `/api/v1/streams/${streamId}`, { token: scopedToken('sys_admin') }));
    }
    expect(await currentVersion(OUT)).toBe(2);
  });

  it('GET /api/v1/events leaves out other streams, page by page, skipping none in scope', async () => {
    // limit=1: most pages would hold only other streams' events without the scan past them.
    const seen: Array<[number, string]> = [];
    let pages = 0;
    for (let from = 0; ; pages++) {
      const res = await call('GET', `/api/v1/events?from_sequence=${from}&limit=1`, {
        token: scopedToken('sys_auditor'),
      });
      expect(res.status).toBe(200);
      if (res.body.events.length === 0) break;
      expect(res.body.events).toHaveLength(1);
      for (const e of res.body.events) seen.push([e.sequence, e.stream_id]);
      expect(res.body.next_sequence).toBeGreaterThan(from);
      from = res.body.next_sequence;
    }
    const log = await wholeLog();
    expect(log.some(([, s]) => !s.startsWith('order.'))).toBe(true);
    expect(seen).toEqual(inScopePart(log));
    expect(pages).toBe(seen.length);
  });
});

describe('gRPC, scoped caller', () => {
  const events = [{ eventType: 'Scoped', payloadJson: encodeJson({ grpc: true }) }];

  it('AppendEvents: in scope ok; outside PERMISSION_DENIED and nothing is appended', async () => {
    const ok = await client.appendEvents(
      { streamId: 'order.grpc-append', events, expectedVersion: -2n },
      auth(scopedToken('sys_operator')),
    );
    expect(ok.currentVersion).toBe(1n);
    for (const streamId of [OUT, NOWHERE]) {
      expect(
        await codeOf(
          client.appendEvents({ streamId, events, expectedVersion: -2n }, auth(scopedToken('sys_operator'))),
        ),
      ).toBe(Code.PermissionDenied);
    }
    expect(await currentVersion(OUT)).toBe(2);
    expect(await currentVersion(NOWHERE)).toBeUndefined();
  });

  it('ReadEvents: in scope ok; outside PERMISSION_DENIED, existing or not', async () => {
    const ok = await client.readEvents({ streamId: IN }, auth(scopedToken('sys_auditor')));
    expect(ok.events.length).toBe(2);
    for (const streamId of [OUT, NOWHERE]) {
      expect(await codeOf(client.readEvents({ streamId }, auth(scopedToken('sys_auditor'))))).toBe(
        Code.PermissionDenied,
      );
    }
  });

  it('ReadEventBySequence: in scope ok; outside PERMISSION_DENIED, existing or not', async () => {
    const ok = await client.readEventBySequence(
      { streamId: IN, sequence: BigInt(inSequence) },
      auth(scopedToken('sys_auditor')),
    );
    expect(ok.event?.streamId).toBe(IN);
    for (const [streamId, sequence] of [
      [OUT, BigInt(outSequence)],
      [NOWHERE, 1n],
    ] as const) {
      expect(
        await codeOf(client.readEventBySequence({ streamId, sequence }, auth(scopedToken('sys_auditor')))),
      ).toBe(Code.PermissionDenied);
    }
  });

  it('CreateSnapshot: in scope ok; outside PERMISSION_DENIED', async () => {
    const stateJson = encodeJson({ grpc: 1 });
    const ok = await client.createSnapshot(
      { streamId: IN, snapshotVersion: 2n, stateJson },
      auth(scopedToken('sys_operator')),
    );
    expect(ok.streamId).toBe(IN);
    for (const streamId of [OUT, NOWHERE]) {
      expect(
        await codeOf(
          client.createSnapshot(
            { streamId, snapshotVersion: 1n, stateJson },
            auth(scopedToken('sys_operator')),
          ),
        ),
      ).toBe(Code.PermissionDenied);
    }
  });

  it('GetLatestSnapshot: in scope ok; outside PERMISSION_DENIED, existing or not', async () => {
    const ok = await client.getLatestSnapshot({ streamId: IN }, auth(scopedToken('sys_auditor')));
    expect(ok.snapshot?.streamId).toBe(IN);
    for (const streamId of [OUT, NOWHERE]) {
      expect(await codeOf(client.getLatestSnapshot({ streamId }, auth(scopedToken('sys_auditor'))))).toBe(
        Code.PermissionDenied,
      );
    }
  });

  it('DeleteStream: in scope ok; outside PERMISSION_DENIED and the stream stays', async () => {
    await seed('order.grpc-delete');
    const ok = await client.deleteStream({ streamId: 'order.grpc-delete' }, auth(scopedToken('sys_admin')));
    expect(ok.success).toBe(true);
    for (const streamId of [OUT, NOWHERE]) {
      expect(await codeOf(client.deleteStream({ streamId }, auth(scopedToken('sys_admin'))))).toBe(
        Code.PermissionDenied,
      );
    }
    expect(await currentVersion(OUT)).toBe(2);
  });

  it('ReadAll leaves out other streams; next_sequence still advances to the end', async () => {
    const seen: Array<[number, string]> = [];
    let from = 0n;
    for (;;) {
      const batch = await client.readAll({ fromSequence: from, limit: 2 }, auth(scopedToken('sys_auditor')));
      if (batch.events.length === 0) break;
      for (const e of batch.events) seen.push([Number(e.sequence), e.streamId]);
      from = batch.nextSequence;
    }
    const log = await wholeLog();
    expect(seen).toEqual(inScopePart(log));
    expect(from).toBeGreaterThan(BigInt(log.at(-1)![0]) - 1n);
  });

  it.each([false, true])(
    'SubscribeAll (batch: %s) delivers only streams in scope, catch-up then live',
    async (batch) => {
      const received: eventStoreV1.StoredEvent[] = [];
      const controller = new AbortController();
      const done = (async () => {
        for await (const message of client.subscribeAll(
          { fromSequence: 0n, batch },
          { ...auth(scopedToken('sys_auditor')), signal: controller.signal },
        )) {
          if (message.event) received.push(message.event);
          received.push(...message.events);
        }
      })().catch((error: unknown) => {
        if (ConnectError.from(error).code !== Code.Canceled) throw error;
      });
      const liveStream = `order.live-${batch}`;
      await seed(`invoice.live-${batch}`);
      await seed(liveStream);
      await waitFor(`${liveStream} delivered`, () => received.some((e) => e.streamId === liveStream));
      controller.abort();
      await done;
      const log = await wholeLog();
      const upToLive = log.slice(0, log.findIndex(([, s]) => s === liveStream) + 1);
      expect(received.map((e) => [Number(e.sequence), e.streamId])).toEqual(inScopePart(upToLive));
    },
  );
});
