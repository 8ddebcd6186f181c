/**
 * issue 10 finding 8: during a database outage every request answers 503 with the envelope within
 * the configured database bound (connect_timeout + statement_timeout), and the service recovers
 * without a restart. Short timeouts here; the assertion allows generous slack, it is not a speed test.
 */
import { startService } from '@k1s0/platform';
import {
  configDirWithOverlay,
  createTestDatabase,
  databaseOutageDrill,
  tokenFor,
} from '@k1s0/platform/testing';
import { describe, expect, it } from 'vitest';
import { eventStoreService } from '../src/service.js';

const CONNECT_TIMEOUT_S = 2;
const STATEMENT_TIMEOUT_MS = 1000;
/** The configured bound (connect_timeout + statement_timeout) plus slack for a busy 2-core machine. */
const BOUND_MS = CONNECT_TIMEOUT_S * 1000 + STATEMENT_TIMEOUT_MS + 2000;

describe('event-store during a database outage', () => {
  for (const mode of ['cut', 'blackhole'] as const) {
    it(`${mode}: appends answer 503 SYS_EVSTORE_UNAVAILABLE within the bound, then recover`, async () => {
      const db = await createTestDatabase();
      const config = configDirWithOverlay(
        eventStoreService.configDir,
        `database:\n  connect_timeout: ${CONNECT_TIMEOUT_S}s\n  statement_timeout: ${STATEMENT_TIMEOUT_MS}ms\n`,
      );
      let restPort = 0;
      let n = 0;
      try {
        const report = await databaseOutageDrill({
          databaseUrl: db.url,
          mode,
          start: async (url) => {
            const service = await startService(
              { ...eventStoreService, configDir: config.dir },
              {
                ...process.env,
                DATABASE_URL: url,
                PORT: '0',
                GRPC_PORT: '0',
                LOG_LEVEL: 'silent',
                KAFKA_BROKERS: '',
                APP_ENV: 'test',
              },
            );
            restPort = service.restPort;
            return service;
          },
          request: () =>
            fetch(`http://127.0.0.1:${restPort}/api/v1/streams/outage-${n++ % 3}/events`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${tokenFor('sys_operator')}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify({
                expected_version: -2,
                events: [{ event_type: 'Tick', payload: { n } }],
              }),
            }),
        });
        for (const answer of report.duringOutage) {
          expect(answer.status, JSON.stringify(answer)).toBe(503);
          expect(answer.body).toMatchObject({ error: { code: 'SYS_EVSTORE_UNAVAILABLE' } });
          expect(answer.ms, JSON.stringify(report.duringOutage)).toBeLessThanOrEqual(BOUND_MS);
        }
        expect(report.recovered.status).toBe(201);
      } finally {
        config.remove();
        await db.drop();
      }
    }, 90_000);
  }
});
