/**
 * The ceiling for a REST read on this machine: a bare Fastify server (no auth, no metrics, no
 * request ids, no cache) answering the config GET route with the exact body the config-server
 * returned. Started pinned to the server CPU like the services.
 */
import Fastify from 'fastify';

// argv: <port> <response body>
const port = Number(process.argv[2] ?? 0);
const body = process.argv[3] ?? '{}';
const app = Fastify({ logger: false });
app.get('/readyz', async () => ({ status: 'ok' }));
app.get('/api/v1/config/:namespace/:key', async (_request, reply) =>
  reply.header('content-type', 'application/json; charset=utf-8').send(body),
);
await app.listen({ host: '127.0.0.1', port });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
