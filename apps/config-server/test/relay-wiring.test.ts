import { createServer } from 'node:net';
import { createTestDatabase, type TestDatabase, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ConfigServer, call, metricValue, put, startConfigServer } from './support/service.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb?.drop());

/** A local port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 1;
}

async function withServer(env: Record<string, string>, fn: (server: ConfigServer) => Promise<void>) {
  const server = await startConfigServer(testDb.url, env);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

it('without brokers the relay is off: ready on the database alone, events wait in the outbox', async () => {
  await withServer({}, async (server) => {
    const ready = await call(server, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok' } });
    await put(server, 'system.relay.section', 'k', 1);
    const [row] = await server.database.sql<
      { n: number }[]
    >`select count(*)::int as n from config_server.outbox`;
    expect(row!.n).toBe(1);
  });
});

it('with brokers configured it relays and reports Kafka readiness (503 while the broker is unreachable)', async () => {
  await withServer({ KAFKA_BROKERS: `127.0.0.1:${await closedPort()}` }, async (server) => {
    const ready = await call<{ status: string; checks: Record<string, string> }>(server, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe('ok');
    expect(ready.body.checks.kafka).toBe('error');
    // The gauge is read from the database at scrape time; a scrape whose read fails keeps no value.
    await waitFor(
      'an outbox backlog of at least 1',
      async () => ((await metricValue(server, 'outbox_backlog', 'outbox="config_server.outbox"')) ?? 0) >= 1,
    );
  });
}, 30_000);
