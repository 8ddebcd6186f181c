import { createTestDatabase, type TestDatabase } from '@k1s0/platform/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, collect, grpcClient, waitForSubscribers } from './support/grpc.js';
import { startConfigServer, tokens } from './support/service.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb?.drop());

it('ends open WatchConfig streams cleanly when the server shuts down', async () => {
  const server = await startConfigServer(testDb.url);
  const watches = [
    collect(grpcClient(server).watchConfig({}, auth(tokens.auditor))),
    collect(grpcClient(server).watchConfig({ namespaces: ['system.a.b'] }, auth(tokens.none))),
  ];
  await waitForSubscribers(server, 2);
  const started = performance.now();
  await server.stop();
  const outcomes = await Promise.all(watches.map((w) => w.done));
  expect(outcomes).toEqual([undefined, undefined]);
  expect(performance.now() - started).toBeLessThan(5_000);
});
