import { readFileSync } from 'node:fs';
import { Code } from '@connectrpc/connect';
import { auditLogsAppendOnlySql } from '@k1s0/platform';
import { codeOf } from '@k1s0/platform/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJson, grpcClient } from './support/grpc-client.js';
import { type Harness, startHarness } from './support/service-harness.js';

// API keys and the audit trail (SPEC §8, issue 14) on the event store: its own tables, its own
// SYS_EVSTORE_ codes, the same platform behaviour as the config server (whose test covers the
// cross-instance revocation and the audit paging in depth).
let h: Harness;
let sql: postgres.Sql;

beforeAll(async () => {
  h = await startHarness();
  sql = postgres(h.testDb.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await h?.stop();
});

async function withHeaders(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: asserted structurally below
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

const event = { event_type: 'OrderPlaced', payload: { n: 1 } };

describe('event-store API keys and audit trail', () => {
  it('round trip: a key appends as apikey:<name> on REST and gRPC, is refused beyond its roles, and revoked', async () => {
    const created = await h.call('POST', '/api/v1/apikeys', {
      role: 'sys_admin',
      body: { name: 'orders-writer', roles: ['sys_operator'], scopes: ['order.*'] },
    });
    expect(created.status).toBe(201);
    const { id, key } = created.body as { id: string; key: string };
    expect(key).toMatch(/^k1s0_[0-9a-f]{32}_/);
    const asKey = { authorization: `ApiKey ${key}` };

    const appended = await withHeaders('POST', '/api/v1/streams/order.k1/events', asKey, {
      events: [event],
      expected_version: 0,
    });
    expect(appended.status).toBe(201);
    const client = grpcClient(h.grpcUrl);
    const rpc = await client.appendEvents(
      {
        streamId: 'order.k1',
        events: [{ eventType: 'OrderPlaced', payloadJson: encodeJson({ n: 2 }) }],
        expectedVersion: 1n,
      },
      { headers: asKey },
    );
    expect(rpc.currentVersion).toBe(2n);
    const forbidden = await withHeaders('DELETE', '/api/v1/streams/order.k1', asKey);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('SYS_EVSTORE_PERMISSION_DENIED');
    expect(await codeOf(client.deleteStream({ streamId: 'order.k1' }, { headers: asKey }))).toBe(
      Code.PermissionDenied,
    );

    const listed = await h.call('GET', '/api/v1/apikeys', { role: 'sys_admin' });
    expect(listed.body.api_keys).toEqual([
      expect.objectContaining({ id, name: 'orders-writer', scopes: ['order.*'] }),
    ]);
    expect(listed.body.api_keys[0].key).toBeUndefined();
    expect(listed.body.api_keys[0].last_used_at).not.toBeNull();
    const rows = await sql`select * from event_store.api_keys`;
    expect(JSON.stringify(rows)).not.toContain(key.split('_').slice(2).join('_'));

    expect((await h.call('DELETE', `/api/v1/apikeys/${id}`, { role: 'sys_admin' })).status).toBe(204);
    const refused = await withHeaders('GET', '/api/v1/streams/order.k1/events', asKey);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({
      code: 'SYS_EVSTORE_UNAUTHORIZED',
      message: 'api key revoked',
    });
    expect(await codeOf(client.readEvents({ streamId: 'order.k1' }, { headers: asKey }))).toBe(
      Code.Unauthenticated,
    );

    const past = await h.call('POST', '/api/v1/apikeys', {
      role: 'sys_admin',
      body: { name: 'late', roles: [], expires_at: '2000-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('SYS_EVSTORE_VALIDATION_ERROR');
    const badRole = await h.call('POST', '/api/v1/apikeys', {
      role: 'sys_admin',
      body: { name: 'r', roles: ['admin'] },
    });
    expect(badRole.status).toBe(400);
    const unknown = await h.call('DELETE', '/api/v1/apikeys/00000000-0000-4000-8000-000000000000', {
      role: 'sys_admin',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('SYS_EVSTORE_APIKEY_NOT_FOUND');

    const audit = await h.call('GET', '/api/v1/audit?page_size=100', { role: 'sys_admin' });
    expect(audit.status).toBe(200);
    const actions = (audit.body.entries as { action: string; target: string; actor: string }[]).map((e) => [
      e.action,
      e.target,
      e.actor,
    ]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['apikey.created', id, 'sys_admin@example.com'],
        ['apikey.revoked', id, 'sys_admin@example.com'],
        ['access.denied', 'DELETE /api/v1/streams/:stream_id', 'apikey:orders-writer'],
        [
          'access.denied',
          '/k1s0.system.eventstore.v1.EventStoreService/DeleteStream',
          'apikey:orders-writer',
        ],
        ['access.denied', 'GET /api/v1/streams/:stream_id/events', 'apikey:orders-writer'],
      ]),
    );
    expect(JSON.stringify(audit.body)).not.toContain(key);
  });

  it('a scoped key outside its streams: 403 on REST and gRPC, each an access.denied with its scopes', async () => {
    const created = await h.call('POST', '/api/v1/apikeys', {
      role: 'sys_admin',
      body: { name: 'invoice-reader', roles: ['sys_auditor'], scopes: ['invoice.*'] },
    });
    expect(created.status).toBe(201);
    const asKey = { authorization: `ApiKey ${(created.body as { key: string }).key}` };
    const rest = await withHeaders('GET', '/api/v1/streams/order.k9/events', asKey);
    expect(rest.status).toBe(403);
    expect(rest.body.error.code).toBe('SYS_EVSTORE_PERMISSION_DENIED');
    expect(await codeOf(grpcClient(h.grpcUrl).readEvents({ streamId: 'order.k9' }, { headers: asKey }))).toBe(
      Code.PermissionDenied,
    );
    // GET /api/v1/audit writes this instance's queued records first.
    const audit = await h.call('GET', '/api/v1/audit?action=access.denied&actor=apikey:invoice-reader', {
      role: 'sys_admin',
    });
    const entries = audit.body.entries as { target: string; details: Record<string, unknown> }[];
    expect(entries.map((e) => [e.target, e.details.protocol, e.details.scopes]).sort()).toEqual(
      [
        ['/k1s0.system.eventstore.v1.EventStoreService/ReadEvents', 'grpc', ['invoice.*']],
        ['GET /api/v1/streams/:stream_id/events', 'rest', ['invoice.*']],
      ].sort(),
    );
  });

  it('audit_logs is append-only in the database, from the platform trigger SQL', async () => {
    await h.call('GET', '/api/v1/audit', { role: 'sys_admin' });
    await h.call('GET', '/api/v1/audit', { role: 'sys_auditor' }); // refused, recorded
    await h.call('GET', '/api/v1/audit', { role: 'sys_admin' }); // writes the queued refusal
    await expect(sql`update event_store.audit_logs set actor = 'x'`).rejects.toThrow(/append-only: UPDATE/);
    await expect(sql`delete from event_store.audit_logs`).rejects.toThrow(/append-only: DELETE/);
    const migration = readFileSync(
      new URL('../drizzle/0003_audit_logs_append_only.sql', import.meta.url),
      'utf8',
    );
    expect(migration).toContain(auditLogsAppendOnlySql('event_store'));
  });
});
