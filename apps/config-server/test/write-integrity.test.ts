import { fromBinary } from '@bufbuild/protobuf';
import { ConfigChangedEventSchema } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type EntryBody, type ErrorBody, put, startWithDatabase, tokens } from './support/service.js';

let ctx: Awaited<ReturnType<typeof startWithDatabase>>;
const sql = () => ctx.server.database.sql;

beforeAll(async () => {
  ctx = await startWithDatabase();
});
afterAll(async () => ctx?.stop());

async function changeLogCount(namespace: string, key: string): Promise<number> {
  const [row] = await sql()<{ n: number }[]>`
    select count(*)::int as n from config_server.config_change_logs where namespace = ${namespace} and key = ${key}`;
  return row!.n;
}

async function outboxCount(): Promise<number> {
  const [row] = await sql()<{ n: number }[]>`select count(*)::int as n from config_server.outbox`;
  return row!.n;
}

describe('concurrent writers', () => {
  it('20 concurrent PUTs with the same version: one 200, nineteen 409, one new version and log row', async () => {
    await put(ctx.server, 'system.race.section', 'k', 'start');
    await put(ctx.server, 'system.race.section', 'k', 'v2', 1);
    const logsBefore = await changeLogCount('system.race.section', 'k');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(ctx.server, 'PUT', '/api/v1/config/system.race.section/k', {
          token: tokens.operator,
          body: { value: `writer-${i}`, version: 2 },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const loser of results.filter((r) => r.status === 409)) {
      expect((loser.body as unknown as ErrorBody).error).toMatchObject({
        code: 'SYS_CONFIG_VERSION_CONFLICT',
        details: [{ field: 'version', message: '期待値: 2, 現在値: 3' }],
      });
    }
    const winner = results.find((r) => r.status === 200)!.body as unknown as EntryBody;
    const final = await call<EntryBody>(ctx.server, 'GET', '/api/v1/config/system.race.section/k', {
      token: tokens.auditor,
    });
    expect(final.body).toMatchObject({ version: 3, value: winner.value });
    expect(await changeLogCount('system.race.section', 'k')).toBe(logsBefore + 1);
  });

  it('concurrent creates of one key: exactly one 201, the rest 409', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => put(ctx.server, 'system.race.create', 'k', i)),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await changeLogCount('system.race.create', 'k')).toBe(1);
  });
});

describe('outbox', () => {
  it('holds one ConfigChangedEvent per change, decodable with the generated types', async () => {
    const before = await outboxCount();
    const res = await call<EntryBody>(ctx.server, 'PUT', '/api/v1/config/system.outbox.section/k', {
      token: tokens.operator,
      body: { value: { enabled: true }, version: 0 },
      headers: { 'x-request-id': 'req_outbox_1' },
    });
    expect(res.status).toBe(201);
    expect(await outboxCount()).toBe(before + 1);
    const [row] = await sql()<{ topic: string; key: string; value: Uint8Array }[]>`
      select topic, key, value from config_server.outbox order by id desc limit 1`;
    expect(row).toMatchObject({ topic: 'k1s0.system.config.changed.v1', key: 'system.outbox.section' });
    const event = fromBinary(ConfigChangedEventSchema, new Uint8Array(row!.value));
    expect(event).toMatchObject({
      namespace: 'system.outbox.section',
      key: 'k',
      oldValue: '',
      newValue: '{"enabled":true}',
      oldVersion: 0,
      newVersion: 1,
      changeType: 'CREATED',
      changedBy: 'sys_operator@example.com',
      metadata: {
        eventType: 'config.changed',
        source: 'config-server',
        correlationId: 'req_outbox_1',
        schemaVersion: 1,
      },
    });
    expect(event.metadata!.eventId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(Number(event.metadata!.timestamp)).toBe(Date.parse(res.body.updated_at));
  });
});

describe('a failure between the entry write and the change-log/outbox write', () => {
  beforeAll(async () => {
    await sql().unsafe(`
      create function config_server.fail_change_log() returns trigger language plpgsql as $$
      begin raise exception 'injected failure'; end $$;`);
  });

  const armTrigger = () =>
    sql().unsafe(`create trigger fail_change_log before insert on config_server.config_change_logs
      for each row execute function config_server.fail_change_log()`);
  const disarmTrigger = () =>
    sql().unsafe('drop trigger fail_change_log on config_server.config_change_logs');

  it('leaves no trace: 500 envelope without internals, entry unchanged, no outbox row, cache not poisoned', async () => {
    const path = '/api/v1/config/system.failure.section/k';
    await put(ctx.server, 'system.failure.section', 'k', 'before');
    const cached = await call<EntryBody>(ctx.server, 'GET', path, { token: tokens.auditor });
    expect(cached.body.value).toBe('before');
    const outboxBefore = await outboxCount();
    const logsBefore = await changeLogCount('system.failure.section', 'k');

    await armTrigger();
    try {
      const failed = await call(ctx.server, 'PUT', path, {
        token: tokens.operator,
        body: { value: 'after', version: 1 },
      });
      expect(failed.status).toBe(500);
      expect(failed.body).toEqual({
        error: {
          code: 'SYS_CONFIG_INTERNAL_ERROR',
          message: 'internal server error',
          request_id: failed.headers.get('x-request-id'),
          details: [],
        },
      });
      expect(JSON.stringify(failed.body)).not.toMatch(/injected|config_change_logs|insert/i);
      const create = await put(ctx.server, 'system.failure.section', 'new-key', 1);
      expect(create.status).toBe(500);
    } finally {
      await disarmTrigger();
    }

    const [stored] = await sql()<{ value: unknown; version: number }[]>`
      select value, version from config_server.config_entries where namespace = 'system.failure.section' and key = 'k'`;
    expect(stored).toEqual({ value: 'before', version: 1 });
    const [absent] = await sql()<{ n: number }[]>`
      select count(*)::int as n from config_server.config_entries where key = 'new-key'`;
    expect(absent!.n).toBe(0);
    expect(await outboxCount()).toBe(outboxBefore);
    expect(await changeLogCount('system.failure.section', 'k')).toBe(logsBefore);
    expect((await call<EntryBody>(ctx.server, 'GET', path, { token: tokens.auditor })).body).toEqual(
      cached.body,
    );

    const retried = await call<EntryBody>(ctx.server, 'PUT', path, {
      token: tokens.operator,
      body: { value: 'after', version: 1 },
    });
    expect(retried.status).toBe(200);
    expect((await call<EntryBody>(ctx.server, 'GET', path, { token: tokens.auditor })).body.value).toBe(
      'after',
    );
  });
});
