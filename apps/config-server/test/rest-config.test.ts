import { DEV_DEFAULT_SECRET, devTokenClaims, signDevToken } from '@k1s0/platform';
import { tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  type EntryBody,
  type ErrorBody,
  metricValue,
  put,
  startWithDatabase,
  tokens,
} from './support/service.js';

let ctx: Awaited<ReturnType<typeof startWithDatabase>>;
const server = () => ctx.server;

beforeAll(async () => {
  ctx = await startWithDatabase();
});
afterAll(async () => ctx?.stop());

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const VALIDATION = {
  code: 'SYS_CONFIG_VALIDATION_FAILED',
  message: 'リクエストのバリデーションに失敗しました',
};

function errorOf(body: unknown) {
  return (body as ErrorBody).error;
}

describe('GET /api/v1/config/:namespace/:key', () => {
  it('returns the entry with every field of SPEC §5', async () => {
    await put(server(), 'system.auth.database', 'max_connections', 25);
    const res = await call<EntryBody>(
      server(),
      'GET',
      '/api/v1/config/system.auth.database/max_connections',
      {
        token: tokens.auditor,
      },
    );
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(
      [
        'id',
        'namespace',
        'key',
        'value',
        'version',
        'description',
        'created_by',
        'updated_by',
        'created_at',
        'updated_at',
      ].sort(),
    );
    expect(res.body).toMatchObject({
      namespace: 'system.auth.database',
      key: 'max_connections',
      value: 25,
      version: 1,
      description: '',
      created_by: 'sys_operator@example.com',
      updated_by: 'sys_operator@example.com',
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.created_at).toMatch(RFC3339_UTC);
    expect(res.body.updated_at).toMatch(RFC3339_UTC);
  });

  it('answers a cached entry again and again as JSON, and the new value once it changes (text built once per entry)', async () => {
    const path = '/api/v1/config/system.rest.memo/k';
    await put(server(), 'system.rest.memo', 'k', 'v1');
    for (let i = 0; i < 3; i++) {
      const res = await call(server(), 'GET', path, { token: tokens.auditor });
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect([res.body.value, res.body.version]).toEqual(['v1', 1]);
    }
    await put(server(), 'system.rest.memo', 'k', 'v2', 1);
    for (let i = 0; i < 3; i++) {
      const res = await call(server(), 'GET', path, { token: tokens.auditor });
      expect([res.body.value, res.body.version]).toEqual(['v2', 2]);
    }
  });

  it('answers 404 KEY_NOT_FOUND with the seed message and echoes X-Request-Id', async () => {
    const res = await call(server(), 'GET', '/api/v1/config/system.auth.database/missing', {
      token: tokens.auditor,
      headers: { 'x-request-id': 'req_abc123def456' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req_abc123def456');
    expect(res.body).toEqual({
      error: {
        code: 'SYS_CONFIG_KEY_NOT_FOUND',
        message: '指定された設定キーが見つかりません',
        request_id: 'req_abc123def456',
        details: [],
      },
    });
  });

  it('rejects a malformed namespace with 400 naming the field', async () => {
    const res = await call(server(), 'GET', '/api/v1/config/unknown.tier/k', { token: tokens.auditor });
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toMatchObject(VALIDATION);
    expect(errorOf(res.body).details.map((d) => d.field)).toEqual(['namespace']);
  });

  it('needs a valid token (401) with sys_auditor or above (403)', async () => {
    const path = '/api/v1/config/system.auth.database/max_connections';
    const missing = await call(server(), 'GET', path);
    expect(missing.status).toBe(401);
    expect(errorOf(missing.body).code).toBe('SYS_CONFIG_UNAUTHORIZED');
    expect((await call(server(), 'GET', path, { token: 'not-a-jwt' })).status).toBe(401);
    const forged = signDevToken(devTokenClaims({ roles: ['sys_admin'] }), 'another-secret-0123456789');
    expect((await call(server(), 'GET', path, { token: forged })).status).toBe(401);
    const expired = signDevToken(devTokenClaims({ roles: ['sys_admin'] }), DEV_DEFAULT_SECRET, -10);
    expect((await call(server(), 'GET', path, { token: expired })).status).toBe(401);
    const noRole = await call(server(), 'GET', path, { token: tokens.none });
    expect(noRole.status).toBe(403);
    expect(errorOf(noRole.body).code).toBe('SYS_CONFIG_PERMISSION_DENIED');
    for (const token of [tokens.auditor, tokens.operator, tokens.admin]) {
      expect((await call(server(), 'GET', path, { token })).status).toBe(200);
    }
  });
});

describe('GET /api/v1/config/:namespace', () => {
  beforeAll(async () => {
    for (const key of ['zeta', 'alpha', 'Beta_1', 'beta_2', 'gamma'])
      await put(server(), 'system.list.section', key, key);
  });

  it('pages the namespace sorted by key with total_count and has_next', async () => {
    const res = await call<{ entries: EntryBody[]; pagination: unknown }>(
      server(),
      'GET',
      '/api/v1/config/system.list.section?page=1&page_size=2',
      { token: tokens.auditor },
    );
    expect(res.status).toBe(200);
    expect(res.body.entries.map((e) => e.key)).toEqual(['Beta_1', 'alpha']);
    expect(res.body.entries[0]).toHaveProperty('created_at');
    expect(res.body.pagination).toEqual({ total_count: 5, page: 1, page_size: 2, has_next: true });
    const last = await call<{ entries: EntryBody[]; pagination: unknown }>(
      server(),
      'GET',
      '/api/v1/config/system.list.section?page=3&page_size=2',
      { token: tokens.auditor },
    );
    expect(last.body.entries.map((e) => e.key)).toEqual(['zeta']);
    expect(last.body.pagination).toEqual({ total_count: 5, page: 3, page_size: 2, has_next: false });
  });

  it('defaults to page 1 of 20 and searches keys case-insensitively', async () => {
    const res = await call<{ entries: EntryBody[]; pagination: unknown }>(
      server(),
      'GET',
      '/api/v1/config/system.list.section?search=BETA',
      { token: tokens.auditor },
    );
    expect(res.body.entries.map((e) => e.key)).toEqual(['Beta_1', 'beta_2']);
    expect(res.body.pagination).toEqual({ total_count: 2, page: 1, page_size: 20, has_next: false });
    const empty = await call(server(), 'GET', '/api/v1/config/system.empty.section', {
      token: tokens.auditor,
    });
    expect(empty.body).toEqual({
      entries: [],
      pagination: { total_count: 0, page: 1, page_size: 20, has_next: false },
    });
  });

  it.each([
    ['page=0', 'page'],
    ['page=abc', 'page'],
    ['page_size=101', 'page_size'],
    ['page_size=0', 'page_size'],
    ['page_size=1.5', 'page_size'],
    ['search=a%00b', 'search'],
  ])('rejects %s with 400 naming %s', async (query, field) => {
    const res = await call(server(), 'GET', `/api/v1/config/system.list.section?${query}`, {
      token: tokens.auditor,
    });
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toMatchObject(VALIDATION);
    expect(errorOf(res.body).details.map((d) => d.field)).toEqual([field]);
  });

  it('requires sys_auditor', async () => {
    expect((await call(server(), 'GET', '/api/v1/config/system.list.section')).status).toBe(401);
    expect(
      (await call(server(), 'GET', '/api/v1/config/system.list.section', { token: tokens.none })).status,
    ).toBe(403);
  });
});

describe('PUT /api/v1/config/:namespace/:key', () => {
  const path = '/api/v1/config/system.put.section/key';

  it('creates with 201 (version 1), updates with 200 (version + 1), actor from the token', async () => {
    const created = await call<EntryBody>(server(), 'PUT', path, {
      token: tokenFor('sys_operator', 'op@example.com'),
      body: { value: { nested: [1, 'two', true] }, version: 0, description: 'first', updated_by: 'mallory' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      value: { nested: [1, 'two', true] },
      version: 1,
      description: 'first',
      created_by: 'op@example.com',
      updated_by: 'op@example.com',
    });
    const updated = await call<EntryBody>(server(), 'PUT', path, {
      token: tokens.admin,
      body: { value: 50, version: 1 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: created.body.id,
      value: 50,
      version: 2,
      description: 'first',
      created_by: 'op@example.com',
      updated_by: 'sys_admin@example.com',
    });
    const read = await call<EntryBody>(server(), 'GET', path, { token: tokens.auditor });
    expect(read.body).toEqual(updated.body);
    // description: null is "not sent": the current description stays.
    const nulled = await call<EntryBody>(server(), 'PUT', path, {
      token: tokens.admin,
      body: { value: 51, version: 2, description: null },
    });
    expect(nulled.status).toBe(200);
    expect(nulled.body).toMatchObject({ version: 3, description: 'first' });
  });

  it('answers 409 VERSION_CONFLICT with expected vs current', async () => {
    await put(server(), 'system.put.section', 'conflict', 1);
    for (const version of [1, 2, 3])
      await put(server(), 'system.put.section', 'conflict', version + 1, version);
    const res = await call(server(), 'PUT', '/api/v1/config/system.put.section/conflict', {
      token: tokens.operator,
      body: { value: 50, version: 3 },
    });
    expect(res.status).toBe(409);
    expect(errorOf(res.body)).toMatchObject({
      code: 'SYS_CONFIG_VERSION_CONFLICT',
      message: '設定値が他のユーザーによって更新されています。最新のバージョンを取得してください',
      details: [{ field: 'version', message: '期待値: 3, 現在値: 4' }],
    });
    const again = await call(server(), 'PUT', '/api/v1/config/system.put.section/conflict', {
      token: tokens.operator,
      body: { value: 50, version: 0 },
    });
    expect(again.status).toBe(409);
  });

  it('answers 404 when the key is absent and version is not 0', async () => {
    const res = await call(server(), 'PUT', '/api/v1/config/system.put.section/absent', {
      token: tokens.operator,
      body: { value: 1, version: 3 },
    });
    expect(res.status).toBe(404);
    expect(errorOf(res.body).code).toBe('SYS_CONFIG_KEY_NOT_FOUND');
  });

  it('answers 400 with the seed detail when value is missing', async () => {
    const res = await call(server(), 'PUT', path, { token: tokens.operator, body: { version: 0 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        ...VALIDATION,
        request_id: res.headers.get('x-request-id'),
        details: [{ field: 'value', message: 'value フィールドは必須です' }],
      },
    });
  });

  it.each([
    [{ value: null, version: 0 }, ['value']],
    [{ value: 1 }, ['version']],
    [{ value: 1, version: '1' }, ['version']],
    [{ value: 1, version: -1 }, ['version']],
    [{ value: 1, version: 1.5 }, ['version']],
    [{ value: 1, version: 0, description: 5 }, ['description']],
    // Valid JSON PostgreSQL cannot store: U+0000 anywhere, unpaired surrogates in jsonb.
    [{ value: 'a\u0000b', version: 0 }, ['value']],
    [{ value: { 'k\u0000': 1 }, version: 0 }, ['value']],
    [{ value: ['ok', 'a\ud800b'], version: 0 }, ['value']],
    [{ value: 1, version: 0, description: 'a\u0000b' }, ['description']],
    [{}, ['value', 'version']],
    [[1, 2], ['body']],
    ['"text"', ['body']],
  ])('rejects body %j with 400 naming %j', async (body, fields) => {
    const res = await call(server(), 'PUT', '/api/v1/config/system.put.section/bad', {
      token: tokens.operator,
      body,
    });
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toMatchObject(VALIDATION);
    expect(errorOf(res.body).details.map((d) => d.field)).toEqual(fields);
  });

  it('rejects malformed JSON, too large values, bad keys and namespaces with 400', async () => {
    const malformed = await call(server(), 'PUT', path, { token: tokens.operator, body: '{"value": ' });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed.body).code).toBe('SYS_CONFIG_VALIDATION_FAILED');
    const big = await call(server(), 'PUT', '/api/v1/config/system.put.section/big', {
      token: tokens.operator,
      body: { value: 'x'.repeat(70_000), version: 0 },
    });
    expect(big.status).toBe(400);
    expect(errorOf(big.body).details.map((d) => d.field)).toEqual(['value']);
    const key = await call(server(), 'PUT', '/api/v1/config/system.put.section/bad%20key', {
      token: tokens.operator,
      body: { value: 1, version: 0 },
    });
    expect(errorOf(key.body).details.map((d) => d.field)).toEqual(['key']);
    const ns = await call(server(), 'PUT', '/api/v1/config/system/key', {
      token: tokens.operator,
      body: { value: 1, version: 0 },
    });
    expect(errorOf(ns.body).details.map((d) => d.field)).toEqual(['namespace']);
  });

  it('needs sys_operator: 401 without token even for a bad body, 403 for auditors', async () => {
    const anonymous = await call(server(), 'PUT', path, { body: '{"broken' });
    expect(anonymous.status).toBe(401);
    const auditor = await call(server(), 'PUT', path, {
      token: tokens.auditor,
      body: { value: 1, version: 0 },
    });
    expect(auditor.status).toBe(403);
    expect(errorOf(auditor.body).code).toBe('SYS_CONFIG_PERMISSION_DENIED');
  });
});

describe('DELETE /api/v1/config/:namespace/:key', () => {
  it('deletes with 204 and no body (sys_admin only), then 404', async () => {
    await put(server(), 'system.delete.section', 'k', 'v');
    const path = '/api/v1/config/system.delete.section/k';
    expect((await call(server(), 'DELETE', path, { token: tokens.operator })).status).toBe(403);
    expect((await call(server(), 'DELETE', path)).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${server().restPort}${path}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await call(server(), 'GET', path, { token: tokens.auditor })).status).toBe(404);
    const again = await call(server(), 'DELETE', path, { token: tokens.admin });
    expect(again.status).toBe(404);
    expect(errorOf(again.body).code).toBe('SYS_CONFIG_KEY_NOT_FOUND');
  });

  it('deletes when the request carries Content-Type: application/json and no body', async () => {
    await put(server(), 'system.delete.section', 'with-header', 'v');
    const res = await call(server(), 'DELETE', '/api/v1/config/system.delete.section/with-header', {
      token: tokens.admin,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(204);
  });
});

describe('GET /api/v1/config/services/:service_name', () => {
  it('returns {service_name, entries:[{namespace,key,value}]} for any valid token', async () => {
    await put(server(), 'system.auth.jwt', 'issuer', 'https://auth.example.com/realms/k1s0');
    await put(server(), 'system.auth.database', 'ssl_mode', 'require');
    const res = await call(server(), 'GET', '/api/v1/config/services/auth-server', { token: tokens.none });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      service_name: 'auth-server',
      entries: [
        { namespace: 'system.auth.database', key: 'max_connections', value: 25 },
        { namespace: 'system.auth.database', key: 'ssl_mode', value: 'require' },
        { namespace: 'system.auth.jwt', key: 'issuer', value: 'https://auth.example.com/realms/k1s0' },
      ],
    });
  });

  it('answers 404 SERVICE_NOT_FOUND, 401 without token', async () => {
    const res = await call(server(), 'GET', '/api/v1/config/services/nothing-here', { token: tokens.none });
    expect(res.status).toBe(404);
    expect(errorOf(res.body)).toMatchObject({
      code: 'SYS_CONFIG_SERVICE_NOT_FOUND',
      message: '指定されたサービスの設定が見つかりません',
      details: [],
    });
    expect((await call(server(), 'GET', '/api/v1/config/services/auth-server')).status).toBe(401);
  });

  it('sees a write at once (bulk cache invalidated on the writing instance)', async () => {
    await call(server(), 'GET', '/api/v1/config/services/auth', { token: tokens.none });
    await put(server(), 'system.auth.extra', 'k', true);
    const res = await call<{ entries: { key: string }[] }>(server(), 'GET', '/api/v1/config/services/auth', {
      token: tokens.none,
    });
    expect(res.body.entries.map((e) => e.key)).toContain('k');
  });
});

describe('history and rollback', () => {
  const base = '/api/v1/config/system.history.section/k';

  it('lists the change log newest first, still readable after a delete', async () => {
    await put(server(), 'system.history.section', 'k', 'v1');
    await put(server(), 'system.history.section', 'k', 'v2', 1);
    await call(server(), 'DELETE', base, { token: tokens.admin });
    const res = await call<{ history: Record<string, unknown>[]; pagination: unknown }>(
      server(),
      'GET',
      `${base}/history`,
      {
        token: tokens.auditor,
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.pagination).toEqual({ total_count: 3, page: 1, page_size: 20, has_next: false });
    expect(res.body.history.map((h) => h.change_type)).toEqual(['DELETED', 'UPDATED', 'CREATED']);
    const [deleted, updated, created] = res.body.history;
    expect(Object.keys(created!).sort()).toEqual(
      [
        'revision',
        'id',
        'config_entry_id',
        'namespace',
        'key',
        'old_value',
        'new_value',
        'old_version',
        'new_version',
        'change_type',
        'changed_by',
        'changed_at',
      ].sort(),
    );
    expect(created).toMatchObject({
      old_value: null,
      new_value: 'v1',
      old_version: 0,
      new_version: 1,
      changed_by: 'sys_operator@example.com',
    });
    expect(updated).toMatchObject({ old_value: 'v1', new_value: 'v2', old_version: 1, new_version: 2 });
    expect(deleted).toMatchObject({
      old_value: 'v2',
      new_value: null,
      old_version: 2,
      new_version: 0,
      changed_by: 'sys_admin@example.com',
    });
    expect(Number(deleted!.revision)).toBeGreaterThan(Number(updated!.revision));
    // One entry id across its whole life (design 000 ConfigChangeLog.config_entry_id).
    expect(new Set([deleted, updated, created].map((c) => c!.config_entry_id)).size).toBe(1);
    const paged = await call<{ history: unknown[]; pagination: unknown }>(
      server(),
      'GET',
      `${base}/history?page=2&page_size=2`,
      {
        token: tokens.auditor,
      },
    );
    expect(paged.body.history).toHaveLength(1);
    expect(paged.body.pagination).toEqual({ total_count: 3, page: 2, page_size: 2, has_next: false });
  });

  it('answers 404 for a key that never existed, 400 for bad paging, 403 without a role', async () => {
    const missing = await call(server(), 'GET', '/api/v1/config/system.history.section/never/history', {
      token: tokens.auditor,
    });
    expect(missing.status).toBe(404);
    expect(errorOf(missing.body).code).toBe('SYS_CONFIG_KEY_NOT_FOUND');
    expect(
      (await call(server(), 'GET', `${base}/history?page_size=500`, { token: tokens.auditor })).status,
    ).toBe(400);
    expect((await call(server(), 'GET', `${base}/history`, { token: tokens.none })).status).toBe(403);
  });

  it('rolls back by writing the old value as a new version (sys_operator)', async () => {
    const path = '/api/v1/config/system.history.rollback/k';
    await put(server(), 'system.history.rollback', 'k', { mode: 'a' });
    await put(server(), 'system.history.rollback', 'k', { mode: 'b' }, 1);
    const res = await call<EntryBody>(server(), 'POST', `${path}/rollback`, {
      token: tokens.operator,
      body: { to_version: 1, version: 2 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ value: { mode: 'a' }, version: 3 });
    const stale = await call(server(), 'POST', `${path}/rollback`, {
      token: tokens.operator,
      body: { to_version: 1, version: 2 },
    });
    expect(stale.status).toBe(409);
    expect(errorOf(stale.body).details).toEqual([{ field: 'version', message: '期待値: 2, 現在値: 3' }]);
    const unknown = await call(server(), 'POST', `${path}/rollback`, {
      token: tokens.operator,
      body: { to_version: 9, version: 3 },
    });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body)).toMatchObject({
      code: 'SYS_CONFIG_VERSION_NOT_FOUND',
      details: [{ field: 'to_version' }],
    });
    const bad = await call(server(), 'POST', `${path}/rollback`, {
      token: tokens.operator,
      body: { to_version: 0 },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.body).details.map((d) => d.field)).toEqual(['to_version', 'version']);
    expect(
      (
        await call(server(), 'POST', `${path}/rollback`, {
          token: tokens.auditor,
          body: { to_version: 1, version: 3 },
        })
      ).status,
    ).toBe(403);
    const never = await call(server(), 'POST', '/api/v1/config/system.history.rollback/never/rollback', {
      token: tokens.operator,
      body: { to_version: 1, version: 0 },
    });
    expect(never.status).toBe(404);
  });
});

describe('operations', () => {
  it('counts cache hits and misses in /metrics and answers unknown routes with the envelope', async () => {
    await put(server(), 'system.metrics.section', 'k', 1);
    const path = '/api/v1/config/system.metrics.section/k';
    const hitsBefore = (await metricValue(server(), 'config_server_cache_hits_total', 'cache="entry"')) ?? 0;
    // The instance's own change notification for the PUT may still arrive and invalidate the
    // entry once, so read until a hit is counted (bounded) instead of assuming the second read hits.
    const deadline = Date.now() + 3000;
    let hits = hitsBefore;
    while (hits <= hitsBefore && Date.now() < deadline) {
      await call(server(), 'GET', path, { token: tokens.auditor });
      hits = (await metricValue(server(), 'config_server_cache_hits_total', 'cache="entry"')) ?? 0;
    }
    expect(hits).toBeGreaterThanOrEqual(hitsBefore + 1);
    expect(await metricValue(server(), 'config_server_cache_misses_total', 'cache="entry"')).toBeGreaterThan(
      0,
    );
    const unknown = await call(server(), 'GET', '/api/v1/nothing', { token: tokens.admin });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown.body).code).toBe('SYS_CONFIG_NOT_FOUND');
  });

  it('reports the outbox backlog and relay errors in /metrics while Kafka is off (events wait)', async () => {
    await put(server(), 'system.metrics.section', 'backlog', 1);
    const backlog = await metricValue(server(), 'outbox_backlog', 'outbox="config_server.outbox"');
    expect(backlog).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`http://127.0.0.1:${server().restPort}/metrics`)).text();
    expect(text).toContain('# TYPE outbox_relay_errors_total counter');
  });
});
