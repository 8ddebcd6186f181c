import { Code, ConnectError } from '@connectrpc/connect';
import { codeOf, tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, type ConfigClient, connectClient, fromJson, grpcClient, json } from './support/grpc.js';
import { put, startWithDatabase, tokens } from './support/service.js';

let ctx: Awaited<ReturnType<typeof startWithDatabase>>;
let client: ConfigClient;

beforeAll(async () => {
  ctx = await startWithDatabase({ APP_ENV: 'test' });
  client = grpcClient(ctx.server);
});
afterAll(async () => ctx?.stop());

describe('GetConfig', () => {
  it('returns the entry with JSON value bytes and timestamps', async () => {
    const created = await put(ctx.server, 'system.grpc.get', 'k', { a: [1, 2] });
    const { entry } = await client.getConfig(
      { namespace: 'system.grpc.get', key: 'k' },
      auth(tokens.auditor),
    );
    expect(entry).toMatchObject({
      id: created.body.id,
      namespace: 'system.grpc.get',
      key: 'k',
      version: 1,
      createdBy: 'sys_operator@example.com',
      updatedBy: 'sys_operator@example.com',
    });
    expect(fromJson(entry!.value)).toEqual({ a: [1, 2] });
    const ms = Number(entry!.updatedAt!.seconds) * 1000 + entry!.updatedAt!.nanos / 1e6;
    expect(new Date(ms).toISOString()).toBe(created.body.updated_at);
  });

  it('answers a cached entry again and again, and the new value once it changes (responses built once per entry)', async () => {
    const at = { namespace: 'system.grpc.memo', key: 'k' };
    const operator = auth(tokens.operator);
    await client.updateConfig({ ...at, value: json('v1'), version: 0 }, operator);
    for (let i = 0; i < 3; i++) {
      const { entry } = await client.getConfig(at, auth(tokens.auditor));
      expect([fromJson(entry!.value), entry!.version]).toEqual(['v1', 1]);
    }
    await client.updateConfig({ ...at, value: json('v2'), version: 1 }, operator);
    for (let i = 0; i < 3; i++) {
      const { entry } = await client.getConfig(at, auth(tokens.auditor));
      expect([fromJson(entry!.value), entry!.version]).toEqual(['v2', 2]);
    }
    // Over Connect JSON (the message itself, not the pre-encoded bytes) the same answer.
    const viaJson = await connectClient(ctx.server).getConfig(at, auth(tokens.auditor));
    expect(fromJson(viaJson.entry!.value)).toEqual('v2');
  });

  it('maps errors: NOT_FOUND, INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED', async () => {
    expect(
      await codeOf(client.getConfig({ namespace: 'system.grpc.get', key: 'none' }, auth(tokens.auditor))),
    ).toBe(Code.NotFound);
    expect(await codeOf(client.getConfig({ namespace: 'bad', key: 'k' }, auth(tokens.auditor)))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(client.getConfig({ namespace: 'system.grpc.get', key: 'k' }))).toBe(
      Code.Unauthenticated,
    );
    expect(await codeOf(client.getConfig({ namespace: 'system.grpc.get', key: 'k' }, auth('garbage')))).toBe(
      Code.Unauthenticated,
    );
    expect(
      await codeOf(client.getConfig({ namespace: 'system.grpc.get', key: 'k' }, auth(tokens.none))),
    ).toBe(Code.PermissionDenied);
  });

  it('carries the SYS_CONFIG_ code in the x-error-code trailer/header', async () => {
    try {
      await client.getConfig({ namespace: 'system.grpc.get', key: 'none' }, auth(tokens.auditor));
      expect.unreachable();
    } catch (error) {
      expect(ConnectError.from(error).metadata.get('x-error-code')).toBe('SYS_CONFIG_KEY_NOT_FOUND');
    }
  });
});

describe('ListConfigs', () => {
  it('pages with defaults for unset pagination and filters by search', async () => {
    for (const key of ['b', 'a', 'c']) await put(ctx.server, 'system.grpc.list', key, key);
    const all = await client.listConfigs({ namespace: 'system.grpc.list' }, auth(tokens.auditor));
    expect(all.entries.map((e) => e.key)).toEqual(['a', 'b', 'c']);
    expect(all.pagination).toMatchObject({ totalCount: 3, page: 1, pageSize: 20, hasNext: false });
    const page = await client.listConfigs(
      { namespace: 'system.grpc.list', pagination: { page: 1, pageSize: 2 } },
      auth(tokens.auditor),
    );
    expect(page.entries.map((e) => e.key)).toEqual(['a', 'b']);
    expect(page.pagination).toMatchObject({ totalCount: 3, page: 1, pageSize: 2, hasNext: true });
    const search = await client.listConfigs(
      { namespace: 'system.grpc.list', search: 'C' },
      auth(tokens.auditor),
    );
    expect(search.entries.map((e) => e.key)).toEqual(['c']);
    expect(
      await codeOf(
        client.listConfigs(
          { namespace: 'system.grpc.list', pagination: { page: 1, pageSize: 101 } },
          auth(tokens.auditor),
        ),
      ),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(client.listConfigs({ namespace: 'system.grpc.list' }, auth(tokens.none)))).toBe(
      Code.PermissionDenied,
    );
  });
});

describe('UpdateConfig', () => {
  it('creates with version 0, updates with the current version, takes the actor from the token', async () => {
    const operator = auth(tokenFor('sys_operator', 'grpc-op@example.com'));
    const created = await client.updateConfig(
      {
        namespace: 'system.grpc.update',
        key: 'k',
        value: json('v1'),
        version: 0,
        description: 'd',
        updatedBy: 'mallory',
      },
      operator,
    );
    expect(created.entry).toMatchObject({
      version: 1,
      description: 'd',
      createdBy: 'grpc-op@example.com',
      updatedBy: 'grpc-op@example.com',
    });
    const updated = await client.updateConfig(
      { namespace: 'system.grpc.update', key: 'k', value: json({ x: 1 }), version: 1 },
      operator,
    );
    expect(updated.entry).toMatchObject({ version: 2, description: 'd' });
    expect(fromJson(updated.entry!.value)).toEqual({ x: 1 });
  });

  it('enforces the 64 KiB value limit as REST does (issue 10): INVALID_ARGUMENT, nothing stored', async () => {
    const op = auth(tokens.operator);
    const over = 'x'.repeat(64 * 1024); // 65,538 bytes serialized
    const error = await client
      .updateConfig({ namespace: 'system.grpc.size', key: 'big', value: json(over), version: 0 }, op)
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(
      await codeOf(client.getConfig({ namespace: 'system.grpc.size', key: 'big' }, auth(tokens.auditor))),
    ).toBe(Code.NotFound);
  });

  it('ABORTED on a version conflict, NOT_FOUND when absent, INVALID_ARGUMENT for bad JSON or no value', async () => {
    const op = auth(tokens.operator);
    expect(
      await codeOf(
        client.updateConfig({ namespace: 'system.grpc.update', key: 'k', value: json(1), version: 1 }, op),
      ),
    ).toBe(Code.Aborted);
    expect(
      await codeOf(
        client.updateConfig({ namespace: 'system.grpc.update', key: 'nope', value: json(1), version: 4 }, op),
      ),
    ).toBe(Code.NotFound);
    const notJson = new TextEncoder().encode('{not json');
    expect(
      await codeOf(
        client.updateConfig({ namespace: 'system.grpc.update', key: 'x', value: notJson, version: 0 }, op),
      ),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(client.updateConfig({ namespace: 'system.grpc.update', key: 'x', version: 0 }, op)),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(
        client.updateConfig({ namespace: 'system.grpc.update', key: 'x', value: json(null), version: 0 }, op),
      ),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(
        client.updateConfig(
          { namespace: 'system.grpc.update', key: 'x', value: json(1), version: 0 },
          auth(tokens.auditor),
        ),
      ),
    ).toBe(Code.PermissionDenied);
    expect(
      await codeOf(
        client.updateConfig({ namespace: 'system.grpc.update', key: 'x', value: json(1), version: 0 }),
      ),
    ).toBe(Code.Unauthenticated);
  });
});

describe('DeleteConfig', () => {
  it('returns success for sys_admin, NOT_FOUND afterwards, PERMISSION_DENIED for operators', async () => {
    await put(ctx.server, 'system.grpc.delete', 'k', 1);
    expect(
      await codeOf(client.deleteConfig({ namespace: 'system.grpc.delete', key: 'k' }, auth(tokens.operator))),
    ).toBe(Code.PermissionDenied);
    expect(
      await client.deleteConfig(
        { namespace: 'system.grpc.delete', key: 'k', deletedBy: 'x' },
        auth(tokens.admin),
      ),
    ).toMatchObject({ success: true });
    expect(
      await codeOf(client.deleteConfig({ namespace: 'system.grpc.delete', key: 'k' }, auth(tokens.admin))),
    ).toBe(Code.NotFound);
    expect(
      await codeOf(client.getConfig({ namespace: 'system.grpc.delete', key: 'k' }, auth(tokens.admin))),
    ).toBe(Code.NotFound);
  });
});

describe('GetServiceConfig', () => {
  it('flattens "namespace.key" → JSON text for any valid token', async () => {
    await put(ctx.server, 'system.payments.db', 'pool', 10);
    await put(ctx.server, 'system.payments.api', 'url', 'https://pay');
    const res = await client.getServiceConfig({ serviceName: 'payments-server' }, auth(tokens.none));
    expect(res.configs).toEqual({
      'system.payments.api.url': '"https://pay"',
      'system.payments.db.pool': '10',
    });
    const same = await client.getServiceConfig(
      { serviceName: 'payments', environment: 'test' },
      auth(tokens.none),
    );
    expect(same.configs).toEqual(res.configs);
  });

  it('INVALID_ARGUMENT for another environment, NOT_FOUND for an unknown service, UNAUTHENTICATED without token', async () => {
    expect(
      await codeOf(
        client.getServiceConfig({ serviceName: 'payments', environment: 'prod' }, auth(tokens.none)),
      ),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getServiceConfig({ serviceName: 'unknown' }, auth(tokens.none)))).toBe(
      Code.NotFound,
    );
    expect(await codeOf(client.getServiceConfig({ serviceName: 'payments' }))).toBe(Code.Unauthenticated);
  });
});

describe('Connect protocol on the REST port (HTTP/1.1)', () => {
  it('serves the same service', async () => {
    const connect = connectClient(ctx.server);
    await put(ctx.server, 'system.grpc.connect', 'k', true);
    const { entry } = await connect.getConfig(
      { namespace: 'system.grpc.connect', key: 'k' },
      auth(tokens.auditor),
    );
    expect(fromJson(entry!.value)).toBe(true);
    expect(await codeOf(connect.getConfig({ namespace: 'system.grpc.connect', key: 'k' }))).toBe(
      Code.Unauthenticated,
    );
  });
});
