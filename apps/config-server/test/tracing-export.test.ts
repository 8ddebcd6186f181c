import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, put, startWithDatabase, tokens } from './support/service.js';

// A stand-in OTLP/HTTP collector: records every export request.
const exports: Array<{ path: string; contentType: string; body: string }> = [];
let collector: Server;
let endpoint: string;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => collector.close(resolve));
});

describe('OTLP trace export (SPEC §7)', () => {
  it('exports one span per use case, with the service name, when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const app = await startWithDatabase({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    try {
      expect((await put(app.server, 'system.trace.section', 'k', 1)).status).toBe(201);
      const read = await call(app.server, 'GET', '/api/v1/config/system.trace.section/k', {
        token: tokens.auditor,
      });
      expect(read.status).toBe(200);
    } finally {
      await app.stop(); // flushes the batch
    }
    const traces = exports.filter((e) => e.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    const body = traces.map((e) => e.body).join('\n');
    expect(body).toContain('"config-server"');
    expect(body).toMatch(/"name":"config\.[a-zA-Z]+"/);
    const names = [...body.matchAll(/"name":"(config\.[a-zA-Z]+)"/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(2);
  });
});
