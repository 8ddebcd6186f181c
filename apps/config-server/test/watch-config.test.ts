import { Code, ConnectError } from '@connectrpc/connect';
import { waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresChangeLogRepository } from '../src/persistence/postgres-change-log-repository.js';
import {
  auth,
  type ConfigClient,
  collect,
  connectClient,
  fromJson,
  grpcClient,
  waitForSubscribers,
} from './support/grpc.js';
import { call, metricValue, put, startWithDatabase, tokens } from './support/service.js';

let ctx: Awaited<ReturnType<typeof startWithDatabase>>;
let client: ConfigClient;

beforeAll(async () => {
  ctx = await startWithDatabase();
  client = grpcClient(ctx.server);
});
afterAll(async () => ctx?.stop());

/**
 * Opens a watch and waits until the server has subscribed it to the feed. A watch naming its
 * namespaces needs any valid token, one over all namespaces or from a revision sys_auditor.
 */
async function openWatch(request: { namespaces?: string[]; fromRevision?: bigint }) {
  const abort = new AbortController();
  const roleless = (request.namespaces ?? []).length > 0 && request.fromRevision === undefined;
  const token = roleless ? tokens.none : tokens.auditor;
  // Open once the server's subscriber count went up by this one (not "is 1": a watch opened while
  // another is open would wait for a count it has already passed).
  const before = (await metricValue(ctx.server, 'config_server_change_feed_subscribers')) ?? 0;
  const stream = collect(client.watchConfig(request, { ...auth(token), signal: abort.signal }));
  await waitForSubscribers(ctx.server, before + 1);
  return { ...stream, abort };
}

async function closeWatch(watch: Awaited<ReturnType<typeof openWatch>>) {
  watch.abort.abort();
  await watch.done;
  await waitForSubscribers(ctx.server, 0);
}

async function revisionsOf(namespace: string, key: string): Promise<bigint[]> {
  const res = await call<{ history: { revision: number }[] }>(
    ctx.server,
    'GET',
    `/api/v1/config/${namespace}/${key}/history?page_size=100`,
    { token: tokens.auditor },
  );
  return res.body.history.map((h) => BigInt(h.revision)).reverse();
}

describe('WatchConfig', () => {
  it('streams changes of the watched namespaces only, with every field and its revision', async () => {
    const watch = await openWatch({ namespaces: ['system.watch.a'] });
    await put(ctx.server, 'system.watch.b', 'k', 'ignored');
    await put(ctx.server, 'system.watch.a', 'k', 'v1');
    await put(ctx.server, 'system.watch.a', 'k', { v: 2 }, 1);
    await call(ctx.server, 'DELETE', '/api/v1/config/system.watch.a/k', { token: tokens.admin });
    await waitFor('3 watch events', () => watch.events.length === 3);
    const [created, updated, deleted] = watch.events;
    expect(created).toMatchObject({
      namespace: 'system.watch.a',
      key: 'k',
      changeType: 'CREATED',
      oldVersion: 0,
      newVersion: 1,
      changedBy: 'sys_operator@example.com',
    });
    expect(created!.oldValue).toHaveLength(0);
    expect(fromJson(created!.newValue)).toBe('v1');
    expect(updated).toMatchObject({ changeType: 'UPDATED', oldVersion: 1, newVersion: 2 });
    expect(fromJson(updated!.oldValue)).toBe('v1');
    expect(fromJson(updated!.newValue)).toEqual({ v: 2 });
    expect(deleted).toMatchObject({
      changeType: 'DELETED',
      oldVersion: 2,
      newVersion: 0,
      changedBy: 'sys_admin@example.com',
    });
    expect(deleted!.newValue).toHaveLength(0);
    expect(created!.changedAt!.seconds).toBeGreaterThan(0n);
    const revisions = watch.events.map((e) => e.revision);
    expect(revisions).toEqual(await revisionsOf('system.watch.a', 'k'));
    expect([...revisions].sort((a, b) => (a < b ? -1 : 1))).toEqual(revisions);
    expect(await metricValue(ctx.server, 'config_server_watch_streams_open')).toBe(1);
    await closeWatch(watch);
    expect(await metricValue(ctx.server, 'config_server_watch_streams_open')).toBe(0);
  });

  it('watches every namespace when the filter is empty', async () => {
    const watch = await openWatch({});
    await put(ctx.server, 'system.watch.c', 'k', 1);
    await put(ctx.server, 'business.watch.d', 'k', 2);
    await waitFor('2 watch events', () => watch.events.length === 2);
    expect(watch.events.map((e) => e.namespace)).toEqual(['system.watch.c', 'business.watch.d']);
    await closeWatch(watch);
  });

  it('resumes from a revision: replays exactly the missed changes in order, then continues live', async () => {
    const first = await put(ctx.server, 'system.watch.resume', 'k', 0);
    expect(first.status).toBe(201);
    const [fromRevision] = await revisionsOf('system.watch.resume', 'k');
    for (let v = 1; v <= 3; v++) await put(ctx.server, 'system.watch.resume', 'k', v, v);
    // Writes racing the replay/live boundary.
    const racing = (async () => {
      for (let v = 4; v <= 10; v++) await put(ctx.server, 'system.watch.resume', 'k', v, v);
    })();
    const watch = await openWatch({ namespaces: ['system.watch.resume'], fromRevision: fromRevision! });
    await racing;
    await put(ctx.server, 'system.watch.resume', 'k', 'live', 11);
    await waitFor('11 watch events', () => watch.events.length >= 11);
    await new Promise((r) => setTimeout(r, 100));
    const expected = (await revisionsOf('system.watch.resume', 'k')).slice(1);
    expect(expected).toHaveLength(11);
    expect(watch.events.map((e) => e.revision)).toEqual(expected);
    expect(watch.events.map((e) => e.newVersion)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await closeWatch(watch);
  });

  it('rejects bad filters with INVALID_ARGUMENT and missing tokens with UNAUTHENTICATED', async () => {
    const bad = collect(client.watchConfig({ namespaces: ['Not-A-Namespace'] }, auth(tokens.none)));
    expect(ConnectError.from(await bad.done).code).toBe(Code.InvalidArgument);
    const anonymous = collect(client.watchConfig({}));
    expect(ConnectError.from(await anonymous.done).code).toBe(Code.Unauthenticated);
    const negative = collect(client.watchConfig({ fromRevision: -1n }, auth(tokens.auditor)));
    expect(ConnectError.from(await negative.done).code).toBe(Code.InvalidArgument);
    await waitForSubscribers(ctx.server, 0);
  });

  it('needs sys_auditor to watch all namespaces or replay from a revision (SPEC §3)', async () => {
    await put(ctx.server, 'system.watch.secret', 'k', 'old value');
    const denied = [
      client.watchConfig({}, auth(tokens.none)),
      client.watchConfig({ fromRevision: 0n }, auth(tokens.none)),
      client.watchConfig({ namespaces: ['system.watch.secret'], fromRevision: 0n }, auth(tokens.none)),
    ].map(collect);
    for (const watch of denied) {
      const error = ConnectError.from(await watch.done);
      expect(error.code).toBe(Code.PermissionDenied);
      expect(error.metadata.get('x-error-code')).toBe('SYS_CONFIG_PERMISSION_DENIED');
      expect(watch.events).toEqual([]);
    }
    await waitForSubscribers(ctx.server, 0);
    // The same replay for an auditor, and a roleless watch naming its namespaces, do stream.
    const replay = await openWatch({ namespaces: ['system.watch.secret'], fromRevision: 0n });
    await waitFor('the replayed change', () => replay.events.length === 1);
    expect(fromJson(replay.events[0]!.newValue)).toBe('old value');
    await closeWatch(replay);
    const live = await openWatch({ namespaces: ['system.watch.secret'] });
    await put(ctx.server, 'system.watch.secret', 'k', 'new value', 1);
    await waitFor('the live change', () => live.events.length === 1);
    expect(fromJson(live.events[0]!.newValue)).toBe('new value');
    await closeWatch(live);
  });

  it('releases the subscription when the client disconnects', async () => {
    const watches = [await openWatch({}), await openWatch({ namespaces: ['system.watch.a'] })].map((w) => w);
    expect(await metricValue(ctx.server, 'config_server_change_feed_subscribers')).toBe(2);
    for (const watch of watches) watch.abort.abort();
    await Promise.all(watches.map((w) => w.done));
    await waitForSubscribers(ctx.server, 0);
    await waitFor(
      'no open watch streams',
      async () => (await metricValue(ctx.server, 'config_server_watch_streams_open')) === 0,
    );
  });

  it('fails with FAILED_PRECONDITION when the history after from_revision was pruned', async () => {
    await put(ctx.server, 'system.watch.pruned', 'k', 1);
    const removed = await new PostgresChangeLogRepository(ctx.server.database).prune(
      new Date(Date.now() + 60_000),
    );
    expect(removed).toBeGreaterThan(0);
    const stale = collect(client.watchConfig({ fromRevision: 0n }, auth(tokens.auditor)));
    const error = ConnectError.from(await stale.done);
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.metadata.get('x-error-code')).toBe('SYS_CONFIG_REVISION_COMPACTED');
    await waitForSubscribers(ctx.server, 0);
  });

  it('one change reaches gRPC (bytes encoded once for every stream) and Connect JSON watchers as the same message', async () => {
    const namespace = 'system.watch.codecs';
    const abort = new AbortController();
    const options = { ...auth(tokens.none), signal: abort.signal };
    const viaGrpc = [0, 1].map(() => collect(client.watchConfig({ namespaces: [namespace] }, options)));
    const viaJson = collect(connectClient(ctx.server).watchConfig({ namespaces: [namespace] }, options));
    await waitForSubscribers(ctx.server, 3);
    await put(ctx.server, namespace, 'k', { v: 'é' });
    await waitFor('3 watchers notified', () => [...viaGrpc, viaJson].every((w) => w.events.length === 1));
    abort.abort();
    await Promise.all([...viaGrpc, viaJson].map((w) => w.done));
    const [first] = viaGrpc[0]!.events;
    expect(first).toMatchObject({ namespace, key: 'k', changeType: 'CREATED' });
    expect(fromJson(first!.newValue)).toEqual({ v: 'é' });
    expect(viaGrpc[1]!.events).toEqual(viaGrpc[0]!.events);
    expect(viaJson.events).toEqual(viaGrpc[0]!.events);
    await waitForSubscribers(ctx.server, 0);
  });
});
