/**
 * issue 10 finding 8: during a database outage every request answers 503 with the envelope within
 * the configured database bound (connect_timeout + statement_timeout), the same bound as the event
 * store, and the service recovers without a restart. Generous slack: not a speed test.
 */
import { createTestDatabase, databaseOutageDrill } from '@k1s0/platform/testing';
import { describe, expect, it } from 'vitest';
import { startConfigServer, tokens } from './support/service.js';

const CONNECT_TIMEOUT_S = 2;
const STATEMENT_TIMEOUT_MS = 1000;
const BOUND_MS = CONNECT_TIMEOUT_S * 1000 + STATEMENT_TIMEOUT_MS + 2000;

describe('config-server during a database outage', () => {
  for (const mode of ['cut', 'blackhole'] as const) {
    it(`${mode}: writes answer 503 SYS_CONFIG_UNAVAILABLE within the bound, then recover`, async () => {
      const db = await createTestDatabase();
      let restPort = 0;
      let n = 0;
      try {
        const report = await databaseOutageDrill({
          databaseUrl: db.url,
          mode,
          start: async (url) => {
            const service = await startConfigServer(
              url,
              {},
              {
                database: {
                  connect_timeout: `${CONNECT_TIMEOUT_S}s`,
                  statement_timeout: `${STATEMENT_TIMEOUT_MS}ms`,
                },
              },
            );
            restPort = service.restPort;
            return service;
          },
          // A write (reads may be served from the cache): a new key each time.
          request: () =>
            fetch(`http://127.0.0.1:${restPort}/api/v1/config/system.outage.test/k${n++}`, {
              method: 'PUT',
              headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' },
              body: JSON.stringify({ value: n, version: 0 }),
            }),
        });
        for (const answer of report.duringOutage) {
          expect(answer.status, JSON.stringify(answer)).toBe(503);
          expect(answer.body).toMatchObject({ error: { code: 'SYS_CONFIG_UNAVAILABLE' } });
          expect(answer.ms, JSON.stringify(report.duringOutage)).toBeLessThanOrEqual(BOUND_MS);
        }
        expect(report.recovered.status).toBeLessThan(300);
      } finally {
        await db.drop();
      }
    }, 90_000);
  }
});
