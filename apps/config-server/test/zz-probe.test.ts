import { createTestDatabase } from '@k1s0/platform/testing';
import { it } from 'vitest';
import WebSocket from 'ws';
import { startConfigServer, tokens } from './support/service.js';

it('probe', async () => {
  const db = await createTestDatabase();
  const server = await startConfigServer(db.url);
  for (const path of ['/healthz', '/api/v1/config/system.a/k', '/nope']) {
    const socket = new WebSocket(`ws://127.0.0.1:${server.restPort}${path}`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    const t = Date.now();
    const result = await new Promise((resolve) => {
      socket.on('unexpected-response', (_q, res) => {
        res.resume();
        res.on('end', () => resolve(`response ${res.statusCode}`));
        res.on('close', () => resolve(`closed ${res.statusCode}`));
      });
      socket.on('open', () => resolve('open'));
      socket.on('close', (c) => resolve(`close ${c}`));
      socket.on('error', (e) => resolve(`error ${e.message}`));
      setTimeout(() => resolve('hang'), 3000);
    });
    console.log('PROBE', path, result, Date.now() - t);
    socket.on('error', () => {});
    socket.terminate();
  }
  console.log('PROBE stopping');
  const t0 = Date.now();
  await server.stop();
  console.log('PROBE stopped', Date.now() - t0);
  await db.drop();
}, 60000);
