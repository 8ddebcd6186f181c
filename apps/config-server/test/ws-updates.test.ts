import type { IncomingMessage } from 'node:http';
import { createTestDatabase, type TestDatabase, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PostgresChangeLogRepository } from '../src/persistence/postgres-change-log-repository.js';
import {
  type ConfigServer,
  call,
  type ErrorBody,
  metricValue,
  put,
  startConfigServer,
  tokens,
} from './support/service.js';

// The WebSocket feed (SPEC §8) on the real app and a real PostgreSQL, with the `ws` client.

interface Update {
  revision: number;
  namespace: string;
  key: string;
  change_type: string;
  old_value: unknown;
  new_value: unknown;
  version: number;
  changed_by: string;
  changed_at: string;
}

interface Feed {
  socket: WebSocket;
  updates: Update[];
  pings: number;
  /** Resolves with the close code and reason once the connection is closed. */
  closed: Promise<{ code: number; reason: string }>;
}

let testDb: TestDatabase;
/** Small send buffer and drain timeout (the slow-consumer test); pings at the default 30 s. */
let server: ConfigServer;

beforeAll(async () => {
  testDb = await createTestDatabase();
  server = await startConfigServer(
    testDb.url,
    {},
    {
      config_server: { websocket: { max_buffered_bytes: 1024, drain_timeout: '100ms' } },
    },
  );
});
afterAll(async () => {
  await server?.stop();
  await testDb?.drop();
});

function feedUrl(target: ConfigServer, query: string): string {
  return `ws://127.0.0.1:${target.restPort}/ws/v1/configs/updates${query === '' ? '' : `?${query}`}`;
}

const subscribers = async (target: ConfigServer) =>
  (await metricValue(target, 'config_server_change_feed_subscribers')) ?? 0;

/**
 * Opens a feed and waits until the server has subscribed it to the change feed. The tests open one
 * feed at a time: first the server must have released the previous one.
 */
async function openFeed(
  target: ConfigServer,
  query: string,
  options: { token?: string; protocols?: string[] } = {},
): Promise<Feed> {
  await waitFor('no feed subscribed', async () => (await subscribers(target)) === 0);
  const headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const socket = new WebSocket(feedUrl(target, query), options.protocols ?? [], { headers });
  const feed: Feed = {
    socket,
    updates: [],
    pings: 0,
    closed: new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    }),
  };
  socket.on('message', (data) => feed.updates.push(JSON.parse(data.toString()) as Update));
  socket.on('ping', () => {
    feed.pings++;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  await waitFor('the feed subscribed to the change feed', async () => (await subscribers(target)) === 1);
  return feed;
}

async function closeFeed(feed: Feed): Promise<void> {
  feed.socket.close(1000);
  await feed.closed;
}

/** The plain HTTP answer to an upgrade the server refused. */
async function refusedUpgrade(
  query: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<{ status: number; body: ErrorBody }> {
  const socket = new WebSocket(feedUrl(server, query), options.protocols ?? [], { headers: options.headers });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    socket.once('unexpected-response', (_request, res) => resolve(res));
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
  });
  let text = '';
  for await (const chunk of response) text += String(chunk);
  // The handshake failed on purpose; ws reports aborting it as an error, which is expected here.
  socket.on('error', () => {});
  socket.terminate();
  return { status: response.statusCode ?? 0, body: JSON.parse(text) as ErrorBody };
}

describe('GET /ws/v1/configs/updates before the upgrade', () => {
  it('answers 401 with the error envelope as plain HTTP without a token, or with a bad one', async () => {
    const missing = await refusedUpgrade('namespaces=system.ws.a');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('SYS_CONFIG_UNAUTHORIZED');
    expect(missing.body.error.request_id).not.toBe('');
    const invalid = await refusedUpgrade('namespaces=system.ws.a', { protocols: ['bearer', 'not.a.jwt'] });
    expect(invalid.status).toBe(401);
    expect(invalid.body.error.code).toBe('SYS_CONFIG_UNAUTHORIZED');
  });

  it('answers 403 to a roleless token asking for all namespaces or a replay', async () => {
    const headers = { authorization: `Bearer ${tokens.none}` };
    for (const query of ['', 'namespaces=', 'namespaces=system.ws.a&from_revision=0']) {
      const res = await refusedUpgrade(query, { headers });
      expect(res.status, query).toBe(403);
      expect(res.body.error.code).toBe('SYS_CONFIG_PERMISSION_DENIED');
    }
  });

  it('answers 400 naming the field for a bad namespace or from_revision', async () => {
    const headers = { authorization: `Bearer ${tokens.auditor}` };
    const res = await refusedUpgrade('namespaces=system.ws.a,Bad&from_revision=-1', { headers });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('SYS_CONFIG_VALIDATION_FAILED');
    expect(res.body.error.details.map((d) => d.field).sort()).toEqual(['from_revision', 'namespaces[1]']);
  });

  it('answers a plain GET (no upgrade) with 426 and the envelope', async () => {
    const res = await call(server, 'GET', '/ws/v1/configs/updates?namespaces=system.ws.a', {
      token: tokens.none,
    });
    expect(res.status).toBe(426);
    expect((res.body as unknown as ErrorBody).error.code).toBe('SYS_CONFIG_UPGRADE_REQUIRED');
  });
});

describe('GET /ws/v1/configs/updates after the upgrade', () => {
  it('takes the token as subprotocol `bearer, <token>` and selects `bearer`', async () => {
    const feed = await openFeed(server, 'namespaces=system.ws.proto', { protocols: ['bearer', tokens.none] });
    expect(feed.socket.protocol).toBe('bearer');
    await put(server, 'system.ws.proto', 'k', 1);
    await waitFor('one update', () => feed.updates.length === 1);
    await closeFeed(feed);
  });

  it('delivers live changes of the named namespaces in commit order, as typed JSON', async () => {
    const feed = await openFeed(server, 'namespaces=system.ws.a,system.ws.c', { token: tokens.none });
    await waitFor(
      'one feed open',
      async () => (await metricValue(server, 'config_server_ws_feeds_open')) === 1,
    );
    await put(server, 'system.ws.b', 'k', 'elsewhere');
    await put(server, 'system.ws.a', 'k', 'v1');
    await put(server, 'system.ws.c', 'k', { n: 1 });
    await put(server, 'system.ws.a', 'k', { v: [2] }, 1);
    await call(server, 'DELETE', '/api/v1/config/system.ws.a/k', { token: tokens.admin });
    await waitFor('4 updates', () => feed.updates.length === 4);
    const [created, other, updated, deleted] = feed.updates;
    expect(created).toEqual({
      revision: expect.any(Number),
      namespace: 'system.ws.a',
      key: 'k',
      change_type: 'CREATED',
      old_value: null,
      new_value: 'v1',
      version: 1,
      changed_by: 'sys_operator@example.com',
      changed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(other).toMatchObject({ namespace: 'system.ws.c', new_value: { n: 1 } });
    expect(updated).toMatchObject({
      change_type: 'UPDATED',
      old_value: 'v1',
      new_value: { v: [2] },
      version: 2,
    });
    expect(deleted).toMatchObject({
      change_type: 'DELETED',
      old_value: { v: [2] },
      new_value: null,
      version: 0,
      changed_by: 'sys_admin@example.com',
    });
    const revisions = feed.updates.map((u) => u.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(4);
    await closeFeed(feed);
    await waitFor(
      'no feed open',
      async () => (await metricValue(server, 'config_server_ws_feeds_open')) === 0,
    );
  });

  it('resumes from the last revision seen with no gap and no duplicate across a reconnect', async () => {
    const ns = 'system.ws.resume';
    const first = await openFeed(server, `namespaces=${ns}`, { token: tokens.none });
    await put(server, ns, 'a', 1);
    await put(server, ns, 'b', 1);
    await waitFor('2 updates', () => first.updates.length === 2);
    await closeFeed(first);
    const lastSeen = first.updates.at(-1)!.revision;

    // Written while no feed is open: only the replay can deliver these.
    await put(server, ns, 'a', 2, 1);
    await put(server, ns, 'c', 1);
    const second = await openFeed(server, `namespaces=${ns}&from_revision=${lastSeen}`, {
      token: tokens.auditor,
    });
    await put(server, ns, 'b', 2, 1); // live, after the replay
    await waitFor('3 updates after the reconnect', () => second.updates.length === 3);

    const history = await call<{ history: { revision: number; key: string }[] }>(
      server,
      'GET',
      `/api/v1/config/${ns}/a/history`,
      { token: tokens.auditor },
    );
    expect(history.status).toBe(200);
    const all = [...first.updates, ...second.updates];
    expect(all.map((u) => `${u.key}:${u.version}`)).toEqual(['a:1', 'b:1', 'a:2', 'c:1', 'b:2']);
    const revisions = all.map((u) => u.revision);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(second.updates.every((u) => u.revision > lastSeen)).toBe(true);
    await closeFeed(second);
  });

  it('closes with 4412 SYS_CONFIG_REVISION_COMPACTED when the history to replay is no longer kept', async () => {
    const ns = 'system.ws.compacted';
    await put(server, ns, 'k', 1);
    // What the retention job does after retention_days: everything up to now is pruned.
    const removed = await new PostgresChangeLogRepository(server.database).prune(
      new Date(Date.now() + 60_000),
    );
    expect(removed).toBeGreaterThan(0);
    const socket = new WebSocket(feedUrl(server, `namespaces=${ns}&from_revision=0`), {
      headers: { authorization: `Bearer ${tokens.auditor}` },
    });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    expect(closed).toEqual({ code: 4412, reason: 'SYS_CONFIG_REVISION_COMPACTED' });
  });

  it('closes a consumer that stops reading with 1013 once its send buffer does not drain', async () => {
    const ns = 'system.ws.slow';
    const feed = await openFeed(server, `namespaces=${ns}`, { token: tokens.none });
    const closesBefore = (await metricValue(server, 'config_server_ws_feed_slow_consumer_closes_total')) ?? 0;
    // The client stops reading: first the kernel buffers fill, then the server's send buffer.
    const raw = (feed.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    const big = 'x'.repeat(60 * 1024);
    const slowClosed = async () =>
      ((await metricValue(server, 'config_server_ws_feed_slow_consumer_closes_total')) ?? 0) > closesBefore;
    // Big updates (old + new value ≈ 120 KiB a message), a few keys at a time, until the server
    // gives up on the consumer.
    const versions = new Map(['k0', 'k1', 'k2', 'k3'].map((key) => [key, 0]));
    for (let round = 0; round < 200 && !(await slowClosed()); round++) {
      await Promise.all(
        [...versions].map(async ([key, version]) => {
          const res = await put(server, ns, key, `${round}${big}`, version);
          versions.set(key, res.body.version);
        }),
      );
    }
    await waitFor('the slow consumer closed', slowClosed);
    raw.resume();
    const closed = await feed.closed;
    expect(closed).toEqual({ code: 1013, reason: 'slow consumer: send buffer full' });
    // The close frame came after what was queued: those changes still arrive, per key a gap-free
    // prefix, in revision order.
    expect(feed.updates.length).toBeGreaterThan(0);
    const revisions = feed.updates.map((u) => u.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    for (const key of versions.keys()) {
      const seen = feed.updates.filter((u) => u.key === key).map((u) => u.version);
      expect(seen).toEqual(seen.map((_, i) => i + 1));
    }
  });
});

describe('pings and shutdown', () => {
  let pingDb: TestDatabase;
  let pinging: ConfigServer;

  beforeAll(async () => {
    pingDb = await createTestDatabase();
    pinging = await startConfigServer(
      pingDb.url,
      {},
      {
        config_server: { websocket: { ping_interval: '250ms' } },
      },
    );
  });
  afterAll(async () => {
    await pinging?.stop();
    await pingDb?.drop();
  });

  it('pings every interval and drops a peer that stops answering', async () => {
    const feed = await openFeed(pinging, 'namespaces=system.ws.ping', { token: tokens.none });
    await waitFor('3 pings', () => feed.pings >= 3);
    expect(feed.socket.readyState).toBe(WebSocket.OPEN);
    // A peer that reads nothing answers no ping: the server drops the connection (no close frame).
    (feed.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(
      'the silent peer dropped',
      async () => (await metricValue(pinging, 'config_server_ws_feeds_open')) === 0,
    );
    feed.socket.terminate();
  });

  it('closes open feeds with 1001 (going away) when the server shuts down', async () => {
    const feed = await openFeed(pinging, 'namespaces=system.ws.shutdown', { token: tokens.none });
    // An upgrade request to another route is answered as plain HTTP and its connection ended:
    // left open, it would hold up the shutdown below.
    const stray = new WebSocket(`ws://127.0.0.1:${pinging.restPort}/healthz`);
    const strayAnswer = await new Promise<IncomingMessage>((resolve) => {
      stray.once('unexpected-response', (_request, res) => resolve(res));
    });
    expect(strayAnswer.statusCode).toBe(200);
    await pinging.stop();
    expect(await feed.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });
});
