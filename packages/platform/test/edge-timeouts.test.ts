import { type ClientHttp2Stream, connect as http2Connect, constants as http2Constants } from 'node:http2';
import { type Socket, connect as tcpConnect } from 'node:net';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { ConfigService } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authInterceptor, authPlugin, bearerToken, createTokenVerifier } from '../src/auth/index.js';
import { platformConfigSchema } from '../src/config/index.js';
import { createServiceRuntime, type ServiceRuntime } from '../src/http/index.js';
import { createLogger, createMetrics } from '../src/observability/index.js';
import { tokenFor, waitFor } from '../src/testing/index.js';

// Issue 10, findings 5, 7 and 10 at the platform level: the runtime both services share, with
// short limits so the timeouts fire within a test. The app-level tests (fuzz, SIGTERM) are in apps/.
const REQUEST_TIMEOUT_MS = 1_500;
const HEADERS_TIMEOUT_MS = 600;
const PER_CALLER = 3;
const MAX_CONCURRENT_STREAMS = 7;
const GET_CONFIG = '/k1s0.system.config.v1.ConfigService/GetConfig';

const verifier = createTokenVerifier({ appEnv: 'test', devSecret: 'k1s0-dev-secret-change-me' });
const token = tokenFor('sys_admin');
let runtime: ServiceRuntime;
let restPort: number;
let grpcPort: number;

beforeAll(async () => {
  const config = platformConfigSchema.parse({
    app: { name: 'test' },
    server: {
      port: 0,
      host: '127.0.0.1',
      request_timeout: REQUEST_TIMEOUT_MS,
      headers_timeout: HEADERS_TIMEOUT_MS,
      timeout_check_interval: 100,
    },
    grpc: {
      port: 0,
      max_streams_per_caller: PER_CALLER,
      max_streams_total: 2 * PER_CALLER,
      max_concurrent_streams: MAX_CONCURRENT_STREAMS,
    },
    database: {},
    auth: {},
  });
  runtime = await createServiceRuntime({
    config,
    codes: { prefix: 'SYS_TEST_', validation: 'VALIDATION_FAILED', validationMessage: 'validation failed' },
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetrics('test'),
    readiness: {},
    rest: async (app) => {
      await app.register(authPlugin, { verifier });
      app.post('/api/v1/things', { onRequest: app.requireAuth('authenticated') }, async () => ({ ok: true }));
    },
    openapi: { title: 'test', version: '0.0.0', description: 'test' },
    connect: {
      routes: (router) =>
        router.service(ConfigService, {
          getConfig: async (req) => ({ entry: { namespace: req.namespace, key: req.key } }),
          async *watchConfig(_req, ctx) {
            // Quiet until the client or the server ends it.
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          },
        }),
      interceptors: [authInterceptor(verifier, () => 'authenticated')],
      authenticate: (_service, _method, authorization) => verifier.verify(bearerToken(authorization)),
    },
  });
  ({ restPort, grpcPort } = await runtime.listen());
});

afterAll(async () => {
  await runtime?.close();
});

interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
}

/** A raw HTTP/1.1 connection on the REST port that writes `head` and then nothing more. */
function rawConnection(head: string | Buffer): RawConnection {
  const socket = tcpConnect(restPort, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => {}); // a reset is a close too
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(head);
  return { socket, received: () => text, closed };
}

/** grpc-status of a raw HTTP/2 gRPC call: in the headers (trailers-only) or the trailers. */
function grpcStatus(stream: ClientHttp2Stream): Promise<unknown> {
  return new Promise((resolve) => {
    stream.once('response', (headers) => {
      if (headers['grpc-status'] !== undefined) resolve(headers['grpc-status']);
      else stream.once('trailers', (trailers) => resolve(trailers['grpc-status']));
      stream.resume();
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string): unknown => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

const slowBodyHead = (path: string, contentType: string, authorization?: string) =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: ${contentType}\r\ncontent-length: 10000\r\n` +
  `${authorization ? `authorization: ${authorization}\r\n` : ''}\r\n{"a":`;

describe('finding 5: authentication before the body, and timeouts', () => {
  it('answers a slow REST body without a token 401 with the envelope and closes the connection', async () => {
    const conn = rawConnection(slowBodyHead('/api/v1/things', 'application/json'));
    await conn.closed; // before: the 401 came, but the connection stayed open for the rest of the body
    expect(statusOf(conn.received())).toBe(401);
    expect(conn.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(bodyOf(conn.received())).toMatchObject({ error: { code: 'SYS_TEST_UNAUTHORIZED' } });
  });

  it('answers a slow Connect body on the REST port without a token 401 before reading it, and closes', async () => {
    const conn = rawConnection(slowBodyHead(GET_CONFIG, 'application/json'));
    await conn.closed; // before: Connect buffered the body first; nothing came until it was complete
    expect(statusOf(conn.received())).toBe(401);
    expect(bodyOf(conn.received())).toMatchObject({ code: 'unauthenticated' });
  });

  it('answers a slow gRPC body without a token UNAUTHENTICATED before reading it, and ends the stream', async () => {
    const session = http2Connect(`http://127.0.0.1:${grpcPort}`);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': GET_CONFIG,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => {});
      stream.write(Buffer.from([0, 0, 0, 0, 100])); // announces 100 bytes, sends none
      // before: no answer until the body was complete
      expect(await grpcStatus(stream)).toBe(String(Code.Unauthenticated));
      await new Promise((resolve) => stream.once('close', resolve)); // the unread body is not waited for
    } finally {
      session.close();
    }
  });

  it('answers UNAUTHENTICATED to a gRPC client without a token (the gate speaks the protocol)', async () => {
    const client = createClient(
      ConfigService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }),
    );
    await expect(client.getConfig({ namespace: 'a', key: 'b' })).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
    const connect = createClient(
      ConfigService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${restPort}`, httpVersion: '1.1' }),
    );
    await expect(connect.getConfig({ namespace: 'a', key: 'b' })).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
    const stream = connect.watchConfig({ namespaces: ['a'] });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it('cuts a slow REST body with a token off at the request timeout: 408 envelope, connection closed', async () => {
    const conn = rawConnection(slowBodyHead('/api/v1/things', 'application/json', `Bearer ${token}`));
    await conn.closed; // before: no request timeout; the server waited for the body forever
    expect(statusOf(conn.received())).toBe(408);
    expect(bodyOf(conn.received())).toMatchObject({ error: { code: 'SYS_TEST_REQUEST_TIMEOUT' } });
  });

  it('resets a slow gRPC body with a token at the request timeout', async () => {
    const session = http2Connect(`http://127.0.0.1:${grpcPort}`);
    session.on('error', () => {});
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': GET_CONFIG,
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization: `Bearer ${token}`,
      });
      stream.on('error', () => {});
      stream.write(Buffer.from([0, 0, 0, 0, 100]));
      await new Promise((resolve) => stream.once('close', resolve));
      expect(stream.rstCode).toBe(http2Constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });

  it('closes a connection whose headers do not arrive within the headers timeout', async () => {
    const conn = rawConnection('GET /healthz HTTP/1.1\r\nhost: x\r\n');
    await conn.closed; // before: Node's 60 s default (the report saw none closed in 100 s)
    expect(statusOf(conn.received())).toBe(408);
    expect(bodyOf(conn.received())).toMatchObject({ error: { code: 'SYS_TEST_REQUEST_TIMEOUT' } });
  });

  it('still serves a request whose body arrives in time', async () => {
    const res = await fetch(`http://127.0.0.1:${restPort}/api/v1/things`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
  });
});

describe('finding 7: stream caps', () => {
  it('announces max_concurrent_streams in the HTTP/2 SETTINGS', async () => {
    const session = http2Connect(`http://127.0.0.1:${grpcPort}`);
    try {
      const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve) =>
        session.once('remoteSettings', resolve),
      );
      expect(settings.maxConcurrentStreams).toBe(MAX_CONCURRENT_STREAMS);
    } finally {
      session.close();
    }
  });

  it('refuses streams over the per-caller cap with RESOURCE_EXHAUSTED and admits again once some close', async () => {
    const client = createClient(
      ConfigService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }),
    );
    const alice = { headers: { authorization: `Bearer ${tokenFor('none', 'alice@example.com')}` } };
    const bob = { headers: { authorization: `Bearer ${tokenFor('none', 'bob@example.com')}` } };
    const open = (options: typeof alice) => {
      const abort = new AbortController();
      const done = (async () => {
        try {
          for await (const _ of client.watchConfig(
            { namespaces: ['a'] },
            { ...options, signal: abort.signal },
          ));
          return undefined;
        } catch (error) {
          return ConnectError.from(error);
        }
      })();
      return { abort, done };
    };
    const alices = Array.from({ length: PER_CALLER }, () => open(alice));
    await waitFor('alice holds her streams', () => runtime.streams.open() === PER_CALLER);
    const refused = await open(alice).done; // before: no cap at all
    expect(refused?.code).toBe(Code.ResourceExhausted);
    expect(refused?.rawMessage).toMatch(/too many open streams for this caller \(limit 3\)/);

    // Another caller is not affected; the total cap (2 × per caller) then refuses a third one.
    const bobs = Array.from({ length: PER_CALLER }, () => open(bob));
    await waitFor('bob holds his streams', () => runtime.streams.open() === 2 * PER_CALLER);
    const carol = { headers: { authorization: `Bearer ${tokenFor('none', 'carol@example.com')}` } };
    expect((await open(carol).done)?.rawMessage).toMatch(/too many open streams on this server/);

    // Closing streams releases their slots.
    for (const s of [...alices, ...bobs]) s.abort.abort();
    await Promise.all([...alices, ...bobs].map((s) => s.done));
    await waitFor('all slots released', () => runtime.streams.open() === 0);
    const again = open(alice);
    await waitFor('alice streams again', () => runtime.streams.open() === 1);
    again.abort.abort();
    expect((await again.done)?.code).toBe(Code.Canceled);
    await waitFor('released again', () => runtime.streams.open() === 0);
  });
});

describe('finding 10: what the HTTP parser and router reject gets the envelope', () => {
  it('a gRPC string field that is not valid UTF-8 (a lone surrogate) → INVALID_ARGUMENT, not INTERNAL', async () => {
    const session = http2Connect(`http://127.0.0.1:${grpcPort}`);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': GET_CONFIG,
        'content-type': 'application/grpc',
        te: 'trailers',
        authorization: `Bearer ${token}`,
      });
      // GetConfigRequest{namespace: U+D800 as CESU-8, what protobufjs writes for a lone surrogate}
      const message = Buffer.from([0x0a, 0x03, 0xed, 0xa0, 0x80]);
      stream.end(Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));
      expect(await grpcStatus(stream)).toBe(String(Code.InvalidArgument)); // before: 13 INTERNAL
    } finally {
      session.close();
    }
  });

  it.each([
    ['bad percent-encoding', '/api/v1/things/%ff'],
    ['an encoded lone surrogate', '/api/v1/things/%ED%A0%80'],
  ])('%s → 400 envelope', async (_name, path) => {
    const res = await fetch(`http://127.0.0.1:${restPort}${path}`, {
      headers: { 'x-request-id': 'bad-url-1' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('bad-url-1');
    expect(await res.json()).toMatchObject({
      error: { code: 'SYS_TEST_VALIDATION_FAILED', request_id: 'bad-url-1', details: [{ field: 'url' }] },
    });
  });

  it.each([
    [
      'oversized headers',
      `GET /api/v1/things HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
    ['a broken request line', 'GARBAGE\r\n\r\n', 400],
    ['a bad header line', 'GET /api/v1/things HTTP/1.1\r\nno colon here\r\n\r\n', 400],
  ])('%s → %i envelope, connection closed', async (_name, request, status) => {
    const conn = rawConnection(request);
    await conn.closed;
    expect(statusOf(conn.received())).toBe(status);
    expect(bodyOf(conn.received())).toMatchObject({
      error: { code: expect.stringMatching(/^SYS_TEST_/), request_id: expect.any(String), details: [{}] },
    });
  });
});
