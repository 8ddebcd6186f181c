import { Code, ConnectError } from '@connectrpc/connect';
import { tokenFor, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, collect, fromJson, grpcClient, json, waitForSubscribers } from './support/grpc.js';
import { call, type ErrorBody, startWithDatabase, tokens } from './support/service.js';

// Issue 14 glue: the audit trail records secret reads and the refusals that happen past the
// CallerGate (scopes in the use cases, the WatchConfig role rule), and an API key's scopes reach
// the use cases on REST and gRPC. Real PostgreSQL; the trail is read as sys_admin through
// GET /api/v1/audit, whose rows are written in batches (enqueue), hence waitFor.

let ctx: Awaited<ReturnType<typeof startWithDatabase>>;

const NS = 'system.vault.db';
const RPC = '/k1s0.system.config.v1.ConfigService';

interface AuditEntry {
  action: string;
  actor: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
}

async function auditOf(action: string, actor: string): Promise<AuditEntry[]> {
  const res = await call<{ entries: AuditEntry[] }>(
    ctx.server,
    'GET',
    `/api/v1/audit?page_size=100&action=${action}&actor=${encodeURIComponent(actor)}`,
    { token: tokens.admin },
  );
  expect(res.status).toBe(200);
  return res.body.entries;
}

/** Waits until the trail holds an entry of `action` by `actor` that `match` accepts; returns them all. */
async function awaitAudit(
  action: string,
  actor: string,
  match: (entry: AuditEntry) => boolean,
): Promise<AuditEntry[]> {
  let entries: AuditEntry[] = [];
  await waitFor(`${action} by ${actor}`, async () => {
    entries = await auditOf(action, actor);
    return entries.some(match);
  });
  return entries;
}

beforeAll(async () => {
  ctx = await startWithDatabase({ APP_ENV: 'test' });
  const putAs = (key: string, body: Record<string, unknown>) =>
    call(ctx.server, 'PUT', `/api/v1/config/${NS}/${key}`, { token: tokens.operator, body });
  expect((await putAs('password', { value: 's3cr3t', version: 0, secret: true })).status).toBe(201);
  expect((await putAs('pool', { value: 5, version: 0 })).status).toBe(201);
});
afterAll(async () => ctx?.stop());

describe('secret.read', () => {
  it('is recorded when an operator receives a secret in plaintext (GET, list, history, bulk, gRPC), never for redacted or plain reads', async () => {
    const operator = tokenFor('sys_operator', 'reader-op@example.com');
    const auditor = tokenFor('sys_auditor', 'reader-aud@example.com');

    // Plain entry, operator: nothing to record.
    expect((await call(ctx.server, 'GET', `/api/v1/config/${NS}/pool`, { token: operator })).status).toBe(
      200,
    );
    // Secret entry, auditor: "[redacted]", nothing revealed.
    const redacted = await call<{ value: unknown }>(ctx.server, 'GET', `/api/v1/config/${NS}/password`, {
      token: auditor,
    });
    expect(redacted.body.value).toBe('[redacted]');
    expect((await call(ctx.server, 'GET', `/api/v1/config/${NS}`, { token: auditor })).status).toBe(200);

    const plain = await call<{ value: unknown }>(ctx.server, 'GET', `/api/v1/config/${NS}/password`, {
      token: operator,
    });
    expect(plain.body.value).toBe('s3cr3t');
    const entries = await awaitAudit(
      'secret.read',
      'reader-op@example.com',
      (e) => e.details.operation === 'GetConfig',
    );
    expect(entries).toEqual([
      {
        action: 'secret.read',
        actor: 'reader-op@example.com',
        target: `${NS}/password`,
        outcome: 'success',
        details: { operation: 'GetConfig', protocol: 'rest' },
        id: expect.any(Number),
        at: expect.any(String),
      },
    ]);
    // The same instance flushed every earlier record before answering: none for the auditor.
    expect(await auditOf('secret.read', 'reader-aud@example.com')).toEqual([]);

    // List, history and bulk fetch over REST, GetConfig over gRPC: one record each, target the key.
    await call(ctx.server, 'GET', `/api/v1/config/${NS}`, { token: operator });
    await call(ctx.server, 'GET', `/api/v1/config/${NS}/password/history`, { token: operator });
    await call(ctx.server, 'GET', '/api/v1/config/services/vault', { token: operator });
    await grpcClient(ctx.server).getConfig({ namespace: NS, key: 'password' }, auth(operator));
    const all = await awaitAudit(
      'secret.read',
      'reader-op@example.com',
      (e) => e.details.protocol === 'grpc',
    );
    expect(all.map((e) => [e.details.operation, e.details.protocol, e.target]).sort()).toEqual(
      [
        ['GetConfig', 'grpc', `${NS}/password`],
        ['GetConfig', 'rest', `${NS}/password`],
        ['GetConfigHistory', 'rest', `${NS}/password`],
        ['GetServiceConfig', 'rest', `${NS}/password`],
        ['ListConfigs', 'rest', `${NS}/password`],
      ].sort(),
    );
  });

  it('a watch records each secret key once per stream, not once per event', async () => {
    const operator = tokenFor('sys_operator', 'watcher-op@example.com');
    const namespace = 'system.vault.watch';
    const abort = new AbortController();
    const stream = collect(
      grpcClient(ctx.server).watchConfig(
        { namespaces: [namespace] },
        { ...auth(operator), signal: abort.signal },
      ),
    );
    await waitForSubscribers(ctx.server, 1);
    const client = grpcClient(ctx.server);
    for (const version of [0, 1]) {
      await client.updateConfig(
        { namespace, key: 'token', value: json(`t${version}`), version, secret: true },
        auth(tokens.operator),
      );
    }
    await waitFor('two watch events', () => stream.events.length === 2);
    expect(fromJson(stream.events[1]?.newValue ?? new Uint8Array())).toBe('t1');
    abort.abort();
    await stream.done;
    const entries = await awaitAudit('secret.read', 'watcher-op@example.com', () => true);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      target: `${namespace}/token`,
      details: { operation: 'WatchConfig', protocol: 'grpc' },
    });
  });
});

describe('access.denied past the CallerGate', () => {
  it('a scoped token reading outside its scope: 403 and an access.denied naming the operation', async () => {
    const scoped = tokenFor('sys_operator', 'scoped-reader@example.com', { scopes: ['service.payment.*'] });
    const res = await call<ErrorBody>(ctx.server, 'GET', `/api/v1/config/${NS}/password`, { token: scoped });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('SYS_CONFIG_PERMISSION_DENIED');
    await expect(grpcClient(ctx.server).listConfigs({ namespace: NS }, auth(scoped))).rejects.toMatchObject({
      code: Code.PermissionDenied,
    });

    const entries = await awaitAudit('access.denied', 'scoped-reader@example.com', (e) =>
      String(e.target).startsWith(RPC),
    );
    // Exactly one record per refusal: the gate admitted the caller, the platform reports the use case's.
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => e.details.count)).toEqual([undefined, undefined]);
    const byTarget = Object.fromEntries(entries.map((e) => [e.target, e]));
    expect(byTarget['GET /api/v1/config/:namespace/:key']).toMatchObject({
      outcome: 'denied',
      details: {
        protocol: 'rest',
        status: 'permission_denied',
        scopes: ['service.payment.*'],
        reason: expect.stringContaining(NS),
      },
    });
    expect(byTarget[`${RPC}/ListConfigs`]).toMatchObject({
      details: { protocol: 'grpc', status: 'permission_denied', scopes: ['service.payment.*'] },
    });
    // Never the credential.
    expect(JSON.stringify(entries)).not.toContain(scoped);
  });

  it('the WatchConfig role rule (gRPC and the WebSocket preHandler) records its refusal', async () => {
    const service = tokenFor('none', 'plain-service@example.com');
    const stream = collect(grpcClient(ctx.server).watchConfig({ namespaces: [] }, auth(service)));
    expect(ConnectError.from(await stream.done).code).toBe(Code.PermissionDenied);
    const ws = await call<ErrorBody>(ctx.server, 'GET', '/ws/v1/configs/updates', { token: service });
    expect(ws.status).toBe(403);
    const entries = await awaitAudit('access.denied', 'plain-service@example.com', (e) =>
      String(e.target).startsWith('GET'),
    );
    expect(entries.map((e) => [e.target, e.details.protocol, e.details.reason]).sort()).toEqual(
      [
        [`${RPC}/WatchConfig`, 'grpc', 'role sys_auditor required'],
        ['GET /ws/v1/configs/updates', 'rest', 'role sys_auditor required'],
      ].sort(),
    );
  });
});

describe('a scoped API key', () => {
  const createKey = (body: Record<string, unknown>) =>
    call<{ key: string } & ErrorBody>(ctx.server, 'POST', '/api/v1/apikeys', { token: tokens.admin, body });

  it('reaches the use cases with its scopes: service.payment.db yes, system.auth.db 403, REST and gRPC', async () => {
    for (const namespace of ['service.payment.db', 'system.auth.db']) {
      const res = await call(ctx.server, 'PUT', `/api/v1/config/${namespace}/url`, {
        token: tokens.operator,
        body: { value: `postgres://${namespace}`, version: 0 },
      });
      expect(res.status).toBe(201);
    }
    const created = await createKey({
      name: 'payment-svc',
      roles: ['sys_auditor'],
      scopes: ['service.payment.*'],
    });
    expect(created.status).toBe(201);
    const withKey = { authorization: `ApiKey ${created.body.key}` };

    const inside = await call<{ value: unknown }>(
      ctx.server,
      'GET',
      '/api/v1/config/service.payment.db/url',
      {
        headers: withKey,
      },
    );
    expect(inside.status).toBe(200);
    expect(inside.body.value).toBe('postgres://service.payment.db');
    const outside = await call<ErrorBody>(ctx.server, 'GET', '/api/v1/config/system.auth.db/url', {
      headers: withKey,
    });
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('SYS_CONFIG_PERMISSION_DENIED');

    const client = grpcClient(ctx.server);
    const { entry } = await client.getConfig(
      { namespace: 'service.payment.db', key: 'url' },
      { headers: withKey },
    );
    expect(fromJson(entry?.value ?? new Uint8Array())).toBe('postgres://service.payment.db');
    await expect(
      client.getConfig({ namespace: 'system.auth.db', key: 'url' }, { headers: withKey }),
    ).rejects.toMatchObject({ code: Code.PermissionDenied });

    // Both refusals are in the trail, under the key's actor.
    const denied = await awaitAudit(
      'access.denied',
      'apikey:payment-svc',
      (e) => e.target === `${RPC}/GetConfig`,
    );
    expect(denied.map((e) => e.target).sort()).toEqual([
      `${RPC}/GetConfig`,
      'GET /api/v1/config/:namespace/:key',
    ]);
  });

  it('refuses a scope that is not in the SPEC §8 form at creation: 400 naming scopes[i]', async () => {
    const res = await createKey({
      name: 'bad-scopes',
      roles: ['sys_auditor'],
      scopes: ['service.payment.*', 'service.*.db', 'system.auth.db', '*'],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('SYS_CONFIG_VALIDATION_FAILED');
    expect([...new Set(res.body.error.details.map((d) => d.field))]).toEqual(['scopes[1]', 'scopes[3]']);
    const keys = await call<{ api_keys: { name: string }[] }>(ctx.server, 'GET', '/api/v1/apikeys', {
      token: tokens.admin,
    });
    expect(keys.body.api_keys.map((k) => k.name)).not.toContain('bad-scopes');
  });
});
