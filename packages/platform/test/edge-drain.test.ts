import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { platformConfigSchema } from '../src/config/index.js';
import { createServiceRuntime, type ServiceRuntime } from '../src/http/index.js';
import { createLogger, createMetrics } from '../src/observability/index.js';

// Issue 10, finding 9, in process: the order of a drain. The SIGTERM-under-load test with a real
// process is apps/config-server/test/sigterm-drain.test.ts.
const PRE_STOP_DELAY_MS = 400;
let runtime: ServiceRuntime;
let restPort: number;
let releaseSlow: () => void = () => {};
let markSlowStarted: () => void = () => {};
const slowStarted = new Promise<void>((resolve) => {
  markSlowStarted = resolve;
});

beforeAll(async () => {
  const config = platformConfigSchema.parse({
    app: { name: 'test' },
    server: { port: 0, host: '127.0.0.1', pre_stop_delay: PRE_STOP_DELAY_MS, shutdown_timeout: 10_000 },
    grpc: { port: 0 },
    database: {},
    auth: {},
  });
  runtime = await createServiceRuntime({
    config,
    codes: { prefix: 'SYS_TEST_', validation: 'VALIDATION_FAILED', validationMessage: 'validation failed' },
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetrics('test'),
    readiness: {},
    rest: (app) => {
      app.get('/api/v1/slow', async () => {
        markSlowStarted();
        await new Promise<void>((resolve) => {
          releaseSlow = resolve;
        });
        return { done: true };
      });
    },
    openapi: { title: 'test', version: '0.0.0', description: 'test' },
    connect: { routes: () => {}, interceptors: [] },
  });
  ({ restPort } = await runtime.listen());
});

afterAll(async () => {
  releaseSlow();
  await runtime?.close();
});

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function get(agent: Agent, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: restPort, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    })
      .on('error', reject)
      .end();
  });
}

it('drains: readiness 503 first, in-flight requests finish, keep-alive answers say Connection: close', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  try {
    expect((await get(agent, '/readyz')).status).toBe(200);
    const slow = get(agent, '/api/v1/slow');
    await slowStarted;

    const closed = runtime.close();
    // During pre_stop_delay: still listening, readiness already 503, and the answer asks the
    // client not to reuse the connection.
    const ready = await get(agent, '/readyz');
    expect(ready.status).toBe(503); // before: 200 until the listener closed
    expect(ready.connection).toBe('close'); // before: keep-alive

    // The listener closes after the delay; the in-flight request still completes.
    releaseSlow();
    const answer = await slow;
    expect(answer).toMatchObject({ status: 200, connection: 'close' });
    expect(JSON.parse(answer.body)).toEqual({ done: true });
    await closed;
    await expect(get(new Agent(), '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  } finally {
    agent.destroy();
  }
});
