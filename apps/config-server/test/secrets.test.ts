/**
 * SPEC §8 secrets and metadata on a real PostgreSQL: what the tables hold (no plaintext, anywhere),
 * who reads what (REST, gRPC, WatchConfig), clearing the flag, key rotation and the start-up key
 * check, metadata round trips and its size limit.
 */
import { randomBytes } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { REDACTED } from '@k1s0/config-domain';
import { createTestDatabase, type TestDatabase, waitFor } from '@k1s0/platform/testing';
import { ConfigChangedEventSchema } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedSecretKeyIds } from '../src/persistence/secret-keys.js';
import { auth, collect, fromJson, grpcClient, json } from './support/grpc.js';
import { type ConfigServer, call, type EntryBody, startConfigServer, tokens } from './support/service.js';

const PLAINTEXT = 'hunter2-very-secret-password';
const key32 = () => randomBytes(32).toString('base64');

interface HistoryBody {
  history: { old_value: unknown; new_value: unknown; secret?: boolean; change_type: string }[];
}

/** Every text the config tables and the outbox hold, as one string to search for plaintext. */
async function everythingStored(server: ConfigServer): Promise<string> {
  const { sql } = server.database;
  const entries = await sql`select * from config_server.config_entries`;
  const logs = await sql`select * from config_server.config_change_logs`;
  const outbox = await sql<{ value: Uint8Array }[]>`select value from config_server.outbox`;
  const events = outbox.map((row) => {
    const event = fromBinary(ConfigChangedEventSchema, new Uint8Array(row.value));
    return { old: event.oldValue, new: event.newValue, raw: Buffer.from(row.value).toString('latin1') };
  });
  return JSON.stringify({ entries, logs, events });
}

function putSecret(
  server: ConfigServer,
  ns: string,
  key: string,
  value: unknown,
  body: Record<string, unknown> = {},
) {
  return call<EntryBody & { secret?: boolean }>(server, 'PUT', `/api/v1/config/${ns}/${key}`, {
    token: tokens.operator,
    body: { value, version: 0, secret: true, ...body },
  });
}

describe('secrets with the development key ring', () => {
  let testDb: TestDatabase;
  let server: ConfigServer;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    server = await startConfigServer(testDb.url, { APP_ENV: 'test' });
  });
  afterAll(async () => {
    await server?.stop();
    await testDb?.drop();
  });

  it('stores no plaintext in entries, change log or outbox; the Kafka event carries "[redacted]"', async () => {
    const ns = 'system.vault.database';
    const created = await putSecret(server, ns, 'password', { password: PLAINTEXT });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ value: { password: PLAINTEXT }, secret: true, version: 1 });
    const updated = await call(server, 'PUT', `/api/v1/config/${ns}/password`, {
      token: tokens.operator,
      body: { value: { password: `${PLAINTEXT}-2` }, version: 1 }, // no `secret`: stays secret
    });
    expect(updated.body).toMatchObject({ secret: true, version: 2 });
    expect(
      (await call(server, 'DELETE', `/api/v1/config/${ns}/password`, { token: tokens.admin })).status,
    ).toBe(204);

    const stored = await everythingStored(server);
    expect(stored).not.toContain(PLAINTEXT);
    expect(stored).toContain('k1s0e1.dev.'); // sealed with the development key
    const outbox = await server.database.sql<{ value: Uint8Array }[]>`select value from config_server.outbox`;
    const events = outbox.map((row) => fromBinary(ConfigChangedEventSchema, new Uint8Array(row.value)));
    expect(events.map((e) => [e.changeType, e.oldValue, e.newValue])).toEqual([
      ['CREATED', '', JSON.stringify(REDACTED)],
      ['UPDATED', JSON.stringify(REDACTED), JSON.stringify(REDACTED)],
      ['DELETED', JSON.stringify(REDACTED), ''],
    ]);
    // The history survives the delete: readable by an operator, redacted for an auditor.
    const asOperator = await call<HistoryBody>(server, 'GET', `/api/v1/config/${ns}/password/history`, {
      token: tokens.operator,
    });
    expect(asOperator.body.history.map((h) => h.new_value)).toEqual([
      null,
      { password: `${PLAINTEXT}-2` },
      { password: PLAINTEXT },
    ]);
    const asAuditor = await call<HistoryBody>(server, 'GET', `/api/v1/config/${ns}/password/history`, {
      token: tokens.auditor,
    });
    expect(asAuditor.body.history.map((h) => [h.old_value, h.new_value, h.secret])).toEqual([
      [REDACTED, null, true],
      [REDACTED, REDACTED, true],
      [null, REDACTED, true],
    ]);
  });

  it('operators read the plaintext, auditors "[redacted]" in get and list (also after a cached read)', async () => {
    const ns = 'system.vault.api';
    await putSecret(server, ns, 'token', PLAINTEXT);
    await call(server, 'PUT', `/api/v1/config/${ns}/plain`, {
      token: tokens.operator,
      body: { value: 1, version: 0 },
    });
    const get = (token: string) => call<EntryBody>(server, 'GET', `/api/v1/config/${ns}/token`, { token });
    expect((await get(tokens.operator)).body).toMatchObject({ value: PLAINTEXT, secret: true });
    expect((await get(tokens.admin)).body.value).toBe(PLAINTEXT);
    expect((await get(tokens.auditor)).body).toMatchObject({ value: REDACTED, secret: true });
    expect((await get(tokens.operator)).body.value).toBe(PLAINTEXT);

    const list = await call<{ entries: (EntryBody & { secret?: boolean })[] }>(
      server,
      'GET',
      `/api/v1/config/${ns}`,
      {
        token: tokens.auditor,
      },
    );
    expect(list.body.entries.map((e) => [e.key, e.value, e.secret])).toEqual([
      ['plain', 1, undefined],
      ['token', REDACTED, true],
    ]);
    // A plain entry has no `secret` field at all (SPEC §8: absent or false).
    expect('secret' in (list.body.entries[0] ?? {})).toBe(false);
    // Bulk fetch by a token below sys_operator is redacted like a watch (any valid token may call it).
    const bulk = await call<{ entries: { key: string; value: unknown }[] }>(
      server,
      'GET',
      '/api/v1/config/services/vault',
      {
        token: tokens.none,
      },
    );
    expect(bulk.body.entries.find((e) => e.key === 'token')?.value).toBe(REDACTED);
    const bulkOperator = await call<{ entries: { key: string; value: unknown }[] }>(
      server,
      'GET',
      '/api/v1/config/services/vault',
      { token: tokens.operator },
    );
    expect(bulkOperator.body.entries.find((e) => e.key === 'token')?.value).toBe(PLAINTEXT);
  });

  it('clearing the flag needs sys_admin; a PUT or rollback without `secret` keeps it', async () => {
    const ns = 'system.vault.flags';
    await putSecret(server, ns, 'k', 'v1');
    const byOperator = await call<{ error: { code: string } }>(server, 'PUT', `/api/v1/config/${ns}/k`, {
      token: tokens.operator,
      body: { value: 'v2', version: 1, secret: false },
    });
    expect(byOperator.status).toBe(403);
    expect(byOperator.body.error.code).toBe('SYS_CONFIG_PERMISSION_DENIED');
    const kept = await call<EntryBody & { secret?: boolean }>(server, 'PUT', `/api/v1/config/${ns}/k`, {
      token: tokens.operator,
      body: { value: 'v2', version: 1 },
    });
    expect(kept.body.secret).toBe(true);
    const rolledBack = await call<EntryBody & { secret?: boolean }>(
      server,
      'POST',
      `/api/v1/config/${ns}/k/rollback`,
      {
        token: tokens.operator,
        body: { to_version: 1, version: 2 },
      },
    );
    expect(rolledBack.body).toMatchObject({ value: 'v1', version: 3, secret: true });
    const cleared = await call<EntryBody & { secret?: boolean }>(server, 'PUT', `/api/v1/config/${ns}/k`, {
      token: tokens.admin,
      body: { value: 'public now', version: 3, secret: false },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.secret).toBeUndefined();
    const auditorView = await call<EntryBody>(server, 'GET', `/api/v1/config/${ns}/k`, {
      token: tokens.auditor,
    });
    expect(auditorView.body.value).toBe('public now');
    expect(await everythingStored(server)).not.toMatch(/"v1"|"v2"/);
  });

  it('WatchConfig: redacted for an auditor, plaintext for an operator (live and replayed)', async () => {
    const ns = 'system.vault.watch';
    const client = grpcClient(server);
    const controller = new AbortController();
    const asAuditor = collect(
      client.watchConfig({ namespaces: [ns] }, { ...auth(tokens.auditor), signal: controller.signal }),
    );
    const asOperator = collect(
      client.watchConfig({ namespaces: [ns] }, { ...auth(tokens.operator), signal: controller.signal }),
    );
    const asService = collect(
      client.watchConfig({ namespaces: [ns] }, { ...auth(tokens.none), signal: controller.signal }),
    );
    await waitFor('three open watch streams', async () => {
      // A write now lands in every stream; repeat until all three have seen one.
      const current = await call<EntryBody>(server, 'GET', `/api/v1/config/${ns}/pw`, {
        token: tokens.operator,
      });
      await call(server, 'PUT', `/api/v1/config/${ns}/pw`, {
        token: tokens.operator,
        body: { value: PLAINTEXT, version: current.status === 200 ? current.body.version : 0, secret: true },
      });
      return asAuditor.events.length > 0 && asOperator.events.length > 0 && asService.events.length > 0;
    });
    const last = (events: typeof asAuditor.events) => events.at(-1);
    expect(last(asOperator.events)).toMatchObject({ secret: true });
    expect(fromJson(last(asOperator.events)?.newValue ?? new Uint8Array())).toBe(PLAINTEXT);
    expect(fromJson(last(asAuditor.events)?.newValue ?? new Uint8Array())).toBe(REDACTED);
    expect(fromJson(last(asService.events)?.newValue ?? new Uint8Array())).toBe(REDACTED);
    controller.abort();

    const replay = async (token: string) => {
      const replayController = new AbortController();
      const stream = client.watchConfig(
        { namespaces: [ns], fromRevision: 0n },
        { ...auth(token), signal: replayController.signal },
      );
      for await (const event of stream) {
        replayController.abort();
        return fromJson(event.newValue);
      }
      return undefined;
    };
    expect(await replay(tokens.auditor)).toBe(REDACTED);
    expect(await replay(tokens.operator)).toBe(PLAINTEXT);
  });

  it('metadata round-trips REST and gRPC, is kept by writes without it, and is limited to 16 KiB', async () => {
    const ns = 'system.vault.meta';
    const labels = { team: 'payments', tags: ['db', 'primary'], owner: { email: 'a@example.com' } };
    const created = await call<EntryBody & { metadata?: unknown }>(server, 'PUT', `/api/v1/config/${ns}/k`, {
      token: tokens.operator,
      body: { value: 1, version: 0, metadata: labels },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual(labels);
    const client = grpcClient(server);
    const viaGrpc = await client.getConfig({ namespace: ns, key: 'k' }, auth(tokens.auditor));
    expect(JSON.parse(viaGrpc.entry?.metadataJson ?? '')).toEqual(labels);
    expect(viaGrpc.entry?.secret).toBe(false);

    // gRPC write without metadata_json keeps it; with metadata_json replaces it.
    const kept = await client.updateConfig(
      { namespace: ns, key: 'k', value: json(2), version: 1 },
      auth(tokens.operator),
    );
    expect(JSON.parse(kept.entry?.metadataJson ?? '')).toEqual(labels);
    const replaced = await client.updateConfig(
      { namespace: ns, key: 'k', value: json(3), version: 2, metadataJson: '{"team":"core"}', secret: true },
      auth(tokens.operator),
    );
    expect(replaced.entry).toMatchObject({ metadataJson: '{"team":"core"}', secret: true });
    const rest = await call<EntryBody & { metadata?: unknown; secret?: boolean }>(
      server,
      'GET',
      `/api/v1/config/${ns}/k`,
      {
        token: tokens.operator,
      },
    );
    expect(rest.body).toMatchObject({ metadata: { team: 'core' }, secret: true, value: 3 });
    await expect(
      client.updateConfig(
        { namespace: ns, key: 'k', value: json(4), version: 3, secret: false },
        auth(tokens.operator),
      ),
    ).rejects.toMatchObject({ rawMessage: expect.stringContaining('sys_admin') });

    const tooBig = await call<{ error: { code: string; details: { field: string }[] } }>(
      server,
      'PUT',
      `/api/v1/config/${ns}/big`,
      { token: tokens.operator, body: { value: 1, version: 0, metadata: { l: 'x'.repeat(16 * 1024) } } },
    );
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.code).toBe('SYS_CONFIG_VALIDATION_FAILED');
    expect(tooBig.body.error.details.map((d) => d.field)).toEqual(['metadata']);
    const notObject = await call<{ error: { details: { field: string }[] } }>(
      server,
      'PUT',
      `/api/v1/config/${ns}/big`,
      {
        token: tokens.operator,
        body: { value: 1, version: 0, metadata: ['a'] },
      },
    );
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.details.map((d) => d.field)).toEqual(['metadata']);
    expect((await call(server, 'GET', `/api/v1/config/${ns}/big`, { token: tokens.operator })).status).toBe(
      404,
    );
  });
});

describe('key rotation and the start-up key check', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => testDb?.drop());

  it('old secrets stay readable after a new primary is added, get re-wrapped, then need only the new key', async () => {
    const k1 = `k1:${key32()}`;
    const k2 = `k2:${key32()}`;
    const dev = await startConfigServer(testDb.url, { APP_ENV: 'test', CONFIG_KEYRING: k1 });
    try {
      for (const key of ['a', 'b', 'c']) {
        expect((await putSecret(dev, 'system.rotate.db', key, `${PLAINTEXT}-${key}`)).status).toBe(201);
      }
      expect(await storedSecretKeyIds(dev.database)).toEqual(['k1']);
    } finally {
      await dev.stop();
    }

    // Without k1 in the ring the server refuses to start, naming the key id.
    await expect(startConfigServer(testDb.url, { APP_ENV: 'test', CONFIG_KEYRING: k2 })).rejects.toThrow(
      /k1 missing from the key ring/,
    );

    // k2 primary, k1 still present: everything readable, and the background rewrap moves all to k2.
    const rotated = await startConfigServer(testDb.url, { APP_ENV: 'test', CONFIG_KEYRING: `${k2},${k1}` });
    try {
      for (const key of ['a', 'b', 'c']) {
        const read = await call<EntryBody>(rotated, 'GET', `/api/v1/config/system.rotate.db/${key}`, {
          token: tokens.operator,
        });
        expect(read.body.value).toBe(`${PLAINTEXT}-${key}`);
      }
      await waitFor('every secret re-wrapped with k2', async () => {
        const ids = await storedSecretKeyIds(rotated.database);
        return ids.length === 1 && ids[0] === 'k2';
      });
    } finally {
      await rotated.stop();
    }

    // k1 can now leave the ring.
    const onlyK2 = await startConfigServer(testDb.url, { APP_ENV: 'test', CONFIG_KEYRING: k2 });
    try {
      const history = await call<HistoryBody>(onlyK2, 'GET', '/api/v1/config/system.rotate.db/a/history', {
        token: tokens.operator,
      });
      expect(history.body.history[0]?.new_value).toBe(`${PLAINTEXT}-a`);
      expect(await everythingStored(onlyK2)).not.toContain(PLAINTEXT);
    } finally {
      await onlyK2.stop();
    }

    // Outside dev/test, stored secrets without any key ring stop start-up too.
    await expect(
      startConfigServer(testDb.url, {
        APP_ENV: 'production',
        AUTH_AUDIENCE: 'x',
        AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks',
      }),
    ).rejects.toThrow(/CONFIG_KEYRING/);
  });

  it('a malformed key ring is a configuration error naming the field, without the key', async () => {
    const short = randomBytes(8).toString('base64');
    const failure = startConfigServer(testDb.url, { APP_ENV: 'test', CONFIG_KEYRING: `k1:${short}` });
    await expect(failure).rejects.toThrow(/config_server\.secrets\.keyring: key "k1" must be 32 bytes/);
    await expect(failure).rejects.not.toThrow(short);
  });
});
