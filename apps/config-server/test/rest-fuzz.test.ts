import { fuzzRestRoutes, tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWithDatabase } from './support/service.js';

// Issue 10, finding 10: ≥ 5,000 random requests over every operation of /openapi.json (new routes
// are included automatically); 0 answers 5xx and every non-2xx under /api/ is the SPEC §4
// envelope. FUZZ_SEED=<seed> replays a run; the seed is printed either way.
let app: Awaited<ReturnType<typeof startWithDatabase>>;

beforeAll(async () => {
  app = await startWithDatabase();
});
afterAll(async () => app?.stop());

it('answers 5,000 random requests with no 5xx and only envelopes under /api/', {
  timeout: 180_000,
}, async () => {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  const result = await fuzzRestRoutes({
    port: app.server.restPort,
    tokens: [tokenFor('sys_admin'), tokenFor('sys_operator'), tokenFor('none')],
    codePrefix: 'SYS_CONFIG_',
    runs: 5_000,
    ...(seed === undefined ? {} : { seed }),
  });
  console.info(`config-server REST fuzz: seed ${result.seed}, ${result.runs} cases`, result.statuses);
  expect(result.failures.slice(0, 5)).toEqual([]);
});
