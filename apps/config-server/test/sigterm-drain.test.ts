import { Agent, request as httpRequest } from 'node:http';
import { createTestDatabase, type TestDatabase, tokenFor, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConfigServerProcess } from './support/process.js';
import { startConfigServer } from './support/service.js';

// Issue 10, finding 9: SIGTERM under load, against the service as a real process (the way the
// launcher and the image run it). Before: the process exited in ~0.35 s with 3–7 resets of
// in-flight requests (Fastify closed idle keep-alive sockets a writer was reusing).
const WRITERS = 8;
const token = tokenFor('sys_operator');
let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => testDb?.drop());

type Outcome =
  | { kind: 'ack'; key: string }
  | { kind: 'rejected'; status: number }
  | { kind: 'error'; code: string };

function put(port: number, agent: Agent, key: string): Promise<Outcome> {
  const body = JSON.stringify({ value: key, version: 0 });
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: 'PUT',
        path: `/api/v1/config/system.drain.test/${key}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(status >= 200 && status < 300 ? { kind: 'ack', key } : { kind: 'rejected', status });
        });
        res.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ kind: 'error', code: error.code ?? error.message }),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ kind: 'error', code: error.code ?? error.message }),
    );
    req.end(body);
  });
}

it('SIGTERM under 8 keep-alive writers: 0 resets, 0 lost acknowledged writes, exit 0', {
  timeout: 120_000,
}, async () => {
  const { service, port } = await startConfigServerProcess(testDb.url, 'info');
  try {
    const acked: string[] = [];
    const errors: string[] = [];
    const rejected: number[] = [];
    let signalled = false;
    const writer = async (w: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let n = 0; ; n++) {
          const outcome = await put(port, agent, `w${w}-${n}`);
          if (outcome.kind === 'ack') acked.push(outcome.key);
          else if (outcome.kind === 'rejected') rejected.push(outcome.status);
          else if (outcome.code === 'ECONNREFUSED' && signalled)
            return; // gone: a client moves on
          else errors.push(outcome.code);
          if (errors.length > 0 && !signalled) return;
        }
      } finally {
        agent.destroy();
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await waitFor('writes flowing', () => acked.length >= 10 * WRITERS, 60_000);
    signalled = true;
    const exit = service.stop('SIGTERM');
    await Promise.all(writers);
    expect(await exit).toEqual({ code: 0, signal: null });
    console.info(
      `SIGTERM drain: ${acked.length} acknowledged writes, ${rejected.length} rejected, errors: ${errors.join(',') || 'none'}`,
    );
    expect(errors).toEqual([]); // no ECONNRESET / socket hang up

    // Every acknowledged write is in the database.
    const server = await startConfigServer(testDb.url);
    try {
      const missing: string[] = [];
      const pending = [...acked];
      const check = async () => {
        for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
          const res = await fetch(
            `http://127.0.0.1:${server.restPort}/api/v1/config/system.drain.test/${key}`,
            {
              headers: { authorization: `Bearer ${tokenFor('sys_admin')}` },
            },
          );
          if (res.status !== 200) missing.push(`${key}: ${res.status}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, check));
      expect(missing).toEqual([]);
    } finally {
      await server.stop();
    }
  } finally {
    await service.stop('SIGKILL');
  }
});
