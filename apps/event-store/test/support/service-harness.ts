import { type RunningService, startService } from '@k1s0/platform';
import { createTestDatabase, type TestDatabase, type TestRole, tokenFor } from '@k1s0/platform/testing';
import type { EventStoreConfig } from '../../src/config.js';
import { eventStoreService } from '../../src/service.js';

export interface Harness {
  service: RunningService<EventStoreConfig>;
  testDb: TestDatabase;
  baseUrl: string;
  grpcUrl: string;
  /** fetch against the REST port with a token for `role` (or none when role is undefined). */
  call(
    method: string,
    path: string,
    options?: { role?: TestRole | undefined; body?: unknown; raw?: string },
  ): Promise<{
    status: number;
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted structurally by the tests
    body: any;
    headers: Headers;
  }>;
  stop(): Promise<void>;
}

/** The real service on a fresh database, on ephemeral ports. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const testDb = await createTestDatabase();
  const service = await startService(eventStoreService, {
    ...process.env,
    DATABASE_URL: testDb.url,
    PORT: '0',
    GRPC_PORT: '0',
    LOG_LEVEL: 'silent',
    KAFKA_BROKERS: '',
    APP_ENV: 'test',
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${service.restPort}`;
  let stopped = false;
  return {
    service,
    testDb,
    baseUrl,
    grpcUrl: `http://127.0.0.1:${service.grpcPort}`,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.role !== undefined) headers.authorization = `Bearer ${tokenFor(options.role)}`;
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? JSON.parse(text) : undefined,
        headers: response.headers,
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop();
      await testDb.drop();
    },
  };
}
