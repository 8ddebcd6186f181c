import { Code, ConnectError } from '@connectrpc/connect';
import { DEV_DEFAULT_SECRET, devTokenClaims, signDevToken } from '@k1s0/platform';
import { codeOf, tokenFor, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auth,
  type ConfigClient,
  collect,
  fromJson,
  grpcClient,
  json,
  waitForSubscribers,
} from './support/grpc.js';
import { call, type EntryBody, type ErrorBody, put, startWithDatabase, tokens } from './support/service.js';

// SPEC §8 scopes, for every config route and RPC: a caller scoped to `service.payment.*` works in
// those namespaces, gets 403 PERMISSION_DENIED for direct access anywhere else (whether the target
// exists or not), and finds everything else silently left out of bulk fetch and WatchConfig.

let ctx: Awaited<ReturnType<typeof startWithDatabase>>;
let client: ConfigClient;

const SCOPES = ['service.payment.*'];
const scoped = {
  admin: tokenFor('sys_admin', 'scoped-admin@example.com', { scopes: SCOPES }),
  operator: tokenFor('sys_operator', 'scoped-operator@example.com', { scopes: SCOPES }),
  auditor: tokenFor('sys_auditor', 'scoped-auditor@example.com', { scopes: SCOPES }),
  none: tokenFor('none', 'scoped-service@example.com', { scopes: SCOPES }),
};

const IN = 'service.payment.db';
const IN_TOO = 'service.payment.cache.redis';
/** The prefix itself: `service.payment.*` does not cover it. */
const PREFIX_ITSELF = 'service.payment';
const OUT = 'service.order.db';
/** A namespace nobody ever wrote to. */
const NOWHERE = 'service.ghost.db';

beforeAll(async () => {
  ctx = await startWithDatabase({ APP_ENV: 'test' });
  client = grpcClient(ctx.server);
  for (const [namespace, key, value] of [
    [IN, 'password', 'p1'],
    [IN_TOO, 'ttl', 30],
    [PREFIX_ITSELF, 'root', true],
    [OUT, 'password', 'o1'],
    ['system.payment.db', 'pool', 5], // same service (second segment), outside the scopes
  ] as const) {
    expect((await put(ctx.server, namespace, key, value)).status).toBe(201);
  }
});
afterAll(async () => ctx?.stop());

function errorOf(body: unknown) {
  return (body as ErrorBody).error;
}

/** Asserts 403 SYS_CONFIG_PERMISSION_DENIED with the §4 envelope. */
function expectDenied(res: { status: number; body: unknown }) {
  expect(res.status).toBe(403);
  expect(errorOf(res.body)).toMatchObject({ code: 'SYS_CONFIG_PERMISSION_DENIED', details: [] });
}

/** The entry as an unscoped sys_admin sees it (to show a refused write changed nothing). */
async function adminGet(namespace: string, key: string) {
  return call<EntryBody>(ctx.server, 'GET', `/api/v1/config/${namespace}/${key}`, { token: tokens.admin });
}

describe('REST, scoped caller', () => {
  it('GET one: in scope 200; outside 403 whether the key exists or not, same answer', async () => {
    const ok = await call<EntryBody>(ctx.server, 'GET', `/api/v1/config/${IN}/password`, {
      token: scoped.auditor,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.value).toBe('p1');

    const existing = await call(ctx.server, 'GET', `/api/v1/config/${OUT}/password`, {
      token: scoped.auditor,
    });
    const missing = await call(ctx.server, 'GET', `/api/v1/config/${OUT}/nothing`, { token: scoped.auditor });
    expectDenied(existing);
    expectDenied(missing);
    // Nothing in the answer tells the two apart.
    expect({ ...errorOf(existing.body), request_id: '' }).toEqual({
      ...errorOf(missing.body),
      request_id: '',
    });
    expectDenied(
      await call(ctx.server, 'GET', `/api/v1/config/${PREFIX_ITSELF}/root`, { token: scoped.auditor }),
    );
    expectDenied(await call(ctx.server, 'GET', `/api/v1/config/${NOWHERE}/k`, { token: scoped.auditor }));
  });

  it('GET list: in scope 200; another namespace 403, existing or not', async () => {
    const ok = await call<{ entries: EntryBody[] }>(ctx.server, 'GET', `/api/v1/config/${IN}`, {
      token: scoped.auditor,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.entries.map((e) => e.key)).toEqual(['password']);
    expectDenied(await call(ctx.server, 'GET', `/api/v1/config/${OUT}`, { token: scoped.auditor }));
    expectDenied(await call(ctx.server, 'GET', `/api/v1/config/${NOWHERE}`, { token: scoped.auditor }));
    expectDenied(await call(ctx.server, 'GET', `/api/v1/config/${PREFIX_ITSELF}`, { token: scoped.auditor }));
  });

  it('PUT: in scope creates; outside 403 and nothing is written (update or create)', async () => {
    const created = await call<EntryBody>(ctx.server, 'PUT', `/api/v1/config/${IN}/rest_put`, {
      token: scoped.operator,
      body: { value: 1, version: 0 },
    });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toBe('scoped-operator@example.com');

    expectDenied(
      await call(ctx.server, 'PUT', `/api/v1/config/${OUT}/password`, {
        token: scoped.operator,
        body: { value: 'hijacked', version: 1 },
      }),
    );
    expectDenied(
      await call(ctx.server, 'PUT', `/api/v1/config/${OUT}/new_key`, {
        token: scoped.operator,
        body: { value: 1, version: 0 },
      }),
    );
    expect((await adminGet(OUT, 'password')).body).toMatchObject({ value: 'o1', version: 1 });
    expect((await adminGet(OUT, 'new_key')).status).toBe(404);
  });

  it('DELETE: in scope 204; outside 403 and the entry stays', async () => {
    await put(ctx.server, IN, 'rest_delete', 1);
    const deleted = await call(ctx.server, 'DELETE', `/api/v1/config/${IN}/rest_delete`, {
      token: scoped.admin,
    });
    expect(deleted.status).toBe(204);

    expectDenied(await call(ctx.server, 'DELETE', `/api/v1/config/${OUT}/password`, { token: scoped.admin }));
    expectDenied(await call(ctx.server, 'DELETE', `/api/v1/config/${OUT}/nothing`, { token: scoped.admin }));
    expect((await adminGet(OUT, 'password')).status).toBe(200);
  });

  it('GET history: in scope 200; outside 403, existing or not', async () => {
    const ok = await call<{ history: unknown[] }>(
      ctx.server,
      'GET',
      `/api/v1/config/${IN}/password/history`,
      {
        token: scoped.auditor,
      },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.history).toHaveLength(1);
    expectDenied(
      await call(ctx.server, 'GET', `/api/v1/config/${OUT}/password/history`, { token: scoped.auditor }),
    );
    expectDenied(
      await call(ctx.server, 'GET', `/api/v1/config/${OUT}/nothing/history`, { token: scoped.auditor }),
    );
  });

  it('POST rollback: in scope 200; outside 403 and nothing is written', async () => {
    await put(ctx.server, IN, 'rest_rollback', 'v1');
    await put(ctx.server, IN, 'rest_rollback', 'v2', 1);
    const rolled = await call<EntryBody>(ctx.server, 'POST', `/api/v1/config/${IN}/rest_rollback/rollback`, {
      token: scoped.operator,
      body: { to_version: 1, version: 2 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ value: 'v1', version: 3 });

    await put(ctx.server, OUT, 'rest_rollback', 'o-v1');
    await put(ctx.server, OUT, 'rest_rollback', 'o-v2', 1);
    expectDenied(
      await call(ctx.server, 'POST', `/api/v1/config/${OUT}/rest_rollback/rollback`, {
        token: scoped.operator,
        body: { to_version: 1, version: 2 },
      }),
    );
    expectDenied(
      await call(ctx.server, 'POST', `/api/v1/config/${OUT}/nothing/rollback`, {
        token: scoped.operator,
        body: { to_version: 1, version: 1 },
      }),
    );
    expect((await adminGet(OUT, 'rest_rollback')).body).toMatchObject({ value: 'o-v2', version: 2 });
  });

  it('GET services/:name leaves out what is outside the scopes; nothing left → 404 SERVICE_NOT_FOUND', async () => {
    type Bulk = { entries: { namespace: string; key: string }[] };
    const visible = await call<Bulk>(ctx.server, 'GET', '/api/v1/config/services/payment', {
      token: scoped.none,
    });
    expect(visible.status).toBe(200);
    const namespaces = new Set(visible.body.entries.map((e) => e.namespace));
    expect(namespaces.has(IN)).toBe(true);
    expect(namespaces.has(IN_TOO)).toBe(true);
    expect([...namespaces].every((ns) => ns.startsWith('service.payment.'))).toBe(true);

    // The unscoped view of the same service has more: the difference was left out silently.
    const all = await call<Bulk>(ctx.server, 'GET', '/api/v1/config/services/payment', {
      token: tokens.none,
    });
    expect(all.body.entries.map((e) => e.namespace)).toEqual(
      expect.arrayContaining([PREFIX_ITSELF, 'system.payment.db']),
    );

    const none = await call(ctx.server, 'GET', '/api/v1/config/services/order', { token: scoped.none });
    expect(none.status).toBe(404);
    expect(errorOf(none.body).code).toBe('SYS_CONFIG_SERVICE_NOT_FOUND');
    // The same answer as for a service that has nothing at all.
    const ghost = await call(ctx.server, 'GET', '/api/v1/config/services/ghost', { token: scoped.none });
    expect(ghost.status).toBe(404);
    expect(errorOf(ghost.body).code).toBe('SYS_CONFIG_SERVICE_NOT_FOUND');
  });

  it('a malformed k1s0_namespaces claim allows nothing; an empty list allows nothing', async () => {
    for (const claim of [42, { a: 1 }, []]) {
      const token = signDevToken(
        { ...devTokenClaims({ roles: ['sys_auditor'], email: 'odd@example.com' }), k1s0_namespaces: claim },
        DEV_DEFAULT_SECRET,
      );
      expectDenied(await call(ctx.server, 'GET', `/api/v1/config/${IN}/password`, { token }));
    }
  });
});

describe('gRPC, scoped caller', () => {
  it('GetConfig: in scope ok; outside PERMISSION_DENIED, existing or not', async () => {
    const { entry } = await client.getConfig({ namespace: IN, key: 'password' }, auth(scoped.auditor));
    expect(fromJson(entry!.value)).toBe('p1');
    for (const key of ['password', 'nothing']) {
      expect(await codeOf(client.getConfig({ namespace: OUT, key }, auth(scoped.auditor)))).toBe(
        Code.PermissionDenied,
      );
    }
  });

  it('ListConfigs: in scope ok; outside PERMISSION_DENIED, existing or not', async () => {
    const { entries } = await client.listConfigs({ namespace: IN }, auth(scoped.auditor));
    expect(entries.map((e) => e.key)).toContain('password');
    for (const namespace of [OUT, NOWHERE]) {
      expect(await codeOf(client.listConfigs({ namespace }, auth(scoped.auditor)))).toBe(
        Code.PermissionDenied,
      );
    }
  });

  it('UpdateConfig: in scope ok; outside PERMISSION_DENIED and nothing is written', async () => {
    const { entry } = await client.updateConfig(
      { namespace: IN, key: 'grpc_put', value: json(1), version: 0 },
      auth(scoped.operator),
    );
    expect(entry?.version).toBe(1);
    expect(
      await codeOf(
        client.updateConfig(
          { namespace: OUT, key: 'password', value: json('x'), version: 1 },
          auth(scoped.operator),
        ),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await codeOf(
        client.updateConfig(
          { namespace: OUT, key: 'grpc_new', value: json(1), version: 0 },
          auth(scoped.operator),
        ),
      ),
    ).toBe(Code.PermissionDenied);
    expect((await adminGet(OUT, 'password')).body).toMatchObject({ value: 'o1', version: 1 });
    expect((await adminGet(OUT, 'grpc_new')).status).toBe(404);
  });

  it('DeleteConfig: in scope ok; outside PERMISSION_DENIED and the entry stays', async () => {
    await put(ctx.server, IN, 'grpc_delete', 1);
    expect(
      (await client.deleteConfig({ namespace: IN, key: 'grpc_delete' }, auth(scoped.admin))).success,
    ).toBe(true);
    for (const key of ['password', 'nothing']) {
      expect(await codeOf(client.deleteConfig({ namespace: OUT, key }, auth(scoped.admin)))).toBe(
        Code.PermissionDenied,
      );
    }
    expect((await adminGet(OUT, 'password')).status).toBe(200);
  });

  it('GetServiceConfig leaves out what is outside the scopes; nothing left → NOT_FOUND', async () => {
    const { configs } = await client.getServiceConfig({ serviceName: 'payment' }, auth(scoped.none));
    const keys = Object.keys(configs);
    expect(keys).toContain(`${IN}.password`);
    expect(keys).toContain(`${IN_TOO}.ttl`);
    expect(keys.every((k) => k.startsWith('service.payment.'))).toBe(true);
    expect(await codeOf(client.getServiceConfig({ serviceName: 'order' }, auth(scoped.none)))).toBe(
      Code.NotFound,
    );
  });

  describe('WatchConfig', () => {
    async function openWatch(request: { namespaces?: string[]; fromRevision?: bigint }, token: string) {
      const abort = new AbortController();
      const stream = collect(client.watchConfig(request, { ...auth(token), signal: abort.signal }));
      await waitForSubscribers(ctx.server, 1);
      return { ...stream, abort };
    }
    async function closeWatch(watch: Awaited<ReturnType<typeof openWatch>>) {
      watch.abort.abort();
      await watch.done;
      await waitForSubscribers(ctx.server, 0);
    }
    /** Writes outside, then inside; once the later in-scope change arrived, the earlier one would have too. */
    async function writeOutThenIn(key: string) {
      await put(ctx.server, OUT, key, 1);
      await put(ctx.server, PREFIX_ITSELF, key, 1);
      await put(ctx.server, IN, key, 1);
    }
    const seen = (events: { namespace: string; key: string }[]) =>
      events.map((e) => `${e.namespace}/${e.key}`);

    it('over all namespaces: only changes in scope arrive', async () => {
      const watch = await openWatch({}, scoped.auditor);
      await writeOutThenIn('watch_all');
      await waitForEvents(watch.events, 1);
      expect(seen(watch.events)).toEqual([`${IN}/watch_all`]);
      await closeWatch(watch);
    });

    it('naming namespaces outside the scopes: they are left out silently, the stream works for the rest', async () => {
      const watch = await openWatch({ namespaces: [OUT, PREFIX_ITSELF, IN] }, scoped.none);
      await writeOutThenIn('watch_named');
      await waitForEvents(watch.events, 1);
      expect(seen(watch.events)).toEqual([`${IN}/watch_named`]);
      await closeWatch(watch);
      // It ended only because we cancelled it, never with PERMISSION_DENIED.
      expect(ConnectError.from(await watch.done).code).toBe(Code.Canceled);
    });

    it('replay from a revision: only changes in scope, then live, no duplicate', async () => {
      const before = await put(ctx.server, IN, 'replay_mark', 1);
      const history = await call<{ history: { revision: number }[] }>(
        ctx.server,
        'GET',
        `/api/v1/config/${IN}/replay_mark/history`,
        { token: tokens.auditor },
      );
      expect(before.status).toBe(201);
      const fromRevision = BigInt(history.body.history[0]!.revision);
      await writeOutThenIn('replayed');
      const watch = await openWatch({ fromRevision }, scoped.auditor);
      await waitForEvents(watch.events, 1);
      await writeOutThenIn('live_after_replay');
      await waitForEvents(watch.events, 2);
      expect(seen(watch.events)).toEqual([`${IN}/replayed`, `${IN}/live_after_replay`]);
      await closeWatch(watch);
    });
  });
});

async function waitForEvents(events: unknown[], count: number) {
  await waitFor(`${count} watch events`, () => events.length >= count);
}
