import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { platformConfigSchema } from '../src/config/index.js';
import { errors } from '../src/errors/index.js';
import { createServiceRuntime, parseInput, type ServiceRuntime } from '../src/http/index.js';
import { createLogger, createMetrics } from '../src/observability/index.js';

interface Envelope {
  error: {
    code: string;
    message: string;
    request_id: string;
    details: Array<{ field: string; message: string }>;
  };
}
const errorOf = async (res: Response) => ((await res.json()) as Envelope).error;

const codes = {
  prefix: 'SYS_TEST_',
  validation: 'VALIDATION_FAILED',
  validationMessage: 'validation failed',
};
let runtime: ServiceRuntime;
let base: string;
let dbUp = true;

beforeAll(async () => {
  const config = platformConfigSchema.parse({
    app: { name: 'test' },
    server: { port: 0, host: '127.0.0.1', body_limit_bytes: 1024 },
    grpc: { port: 0 },
    database: {},
    auth: {},
  });
  runtime = await createServiceRuntime({
    config,
    codes,
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetrics('test'),
    readiness: {
      database: async () => {
        if (!dbUp) throw new Error('connection refused');
      },
    },
    rest: (app) => {
      app.put('/api/v1/things/:id', async (request) => {
        const body = parseInput(z.object({ count: z.number().int().min(0) }), request.body, codes);
        return { id: (request.params as { id: string }).id, count: body.count };
      });
      app.delete('/api/v1/things/:id', async (_request, reply) => reply.code(204).send());
      app.get('/api/v1/missing', async () => {
        throw errors.notFound('THING_NOT_FOUND', 'no such thing');
      });
      app.get('/api/v1/boom', async () => {
        throw new Error('relation "secret_table" does not exist');
      });
    },
    connect: { routes: () => {}, interceptors: [] },
    openapi: { title: 'test', version: '0.0.0', description: 'test' },
  });
  const { restPort } = await runtime.listen();
  base = `http://127.0.0.1:${restPort}`;
});

afterAll(async () => {
  await runtime.close();
});

describe('service runtime', () => {
  it('echoes X-Request-Id and generates one when absent', async () => {
    const echoed = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    expect(await echoed.json()).toEqual({ status: 'ok' });
    const minted = await fetch(`${base}/healthz`);
    expect(minted.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{16}$/);
  });

  it('answers domain errors with the envelope', async () => {
    const res = await fetch(`${base}/api/v1/missing`, { headers: { 'x-request-id': 'r1' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'SYS_TEST_THING_NOT_FOUND', message: 'no such thing', request_id: 'r1', details: [] },
    });
  });

  it('answers malformed JSON, wrong types, oversize bodies and unknown routes', async () => {
    const put = (body: string) =>
      fetch(`${base}/api/v1/things/1`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/json' },
      });
    const malformed = await put('{"count":');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe('SYS_TEST_VALIDATION_FAILED');
    const wrongType = await put('{"count":"x"}');
    expect(wrongType.status).toBe(400);
    expect((await errorOf(wrongType)).details[0]?.field).toBe('count');
    const tooBig = await put(JSON.stringify({ count: 1, pad: 'x'.repeat(4096) }));
    expect(tooBig.status).toBe(413);
    expect((await errorOf(tooBig)).code).toBe('SYS_TEST_PAYLOAD_TOO_LARGE');
    const unknown = await fetch(`${base}/api/v1/nowhere`);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('SYS_TEST_NOT_FOUND');
    expect((await put('{"count":3}')).status).toBe(200);
  });

  it('takes an empty body sent as application/json for no body, and still validates bodies that need one', async () => {
    const headers = { 'content-type': 'application/json' };
    const deleted = await fetch(`${base}/api/v1/things/1`, { method: 'DELETE', headers });
    expect(deleted.status).toBe(204);
    const emptyPut = await fetch(`${base}/api/v1/things/1`, { method: 'PUT', headers, body: '' });
    expect(emptyPut.status).toBe(400);
    expect((await errorOf(emptyPut)).code).toBe('SYS_TEST_VALIDATION_FAILED');
    const poisoned = await fetch(`${base}/api/v1/things/1`, {
      method: 'PUT',
      headers,
      body: '{"count":1,"__proto__":{"x":1}}',
    });
    expect(poisoned.status).toBe(400);
  });

  it('hides internal error text', async () => {
    const res = await fetch(`${base}/api/v1/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret_table');
    expect(JSON.parse(text).error.code).toBe('SYS_TEST_INTERNAL_ERROR');
  });

  it('reports readiness per check and exposes metrics', async () => {
    dbUp = false;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    // Names the failing check, never its error text (issue 10 finding 11).
    const downText = await down.text();
    expect(JSON.parse(downText)).toEqual({ status: 'not ready', checks: { database: 'error' } });
    expect(downText).not.toContain('connection refused');
    dbUp = true;
    const up = await fetch(`${base}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /test_http_requests_total\{route="\/api\/v1\/missing",method="GET",status="404"\} 1/,
    );
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });
});

describe('long path parameters', () => {
  it('routes a 255-character id instead of answering 404', async () => {
    const id = 'x'.repeat(255);
    const res = await fetch(`${base}/api/v1/things/${id}`, {
      method: 'PUT',
      body: '{"count":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(id);
  });
});
