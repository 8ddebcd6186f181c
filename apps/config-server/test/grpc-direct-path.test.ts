/**
 * The direct unary gRPC path (platform grpc-direct-path.ts) must answer exactly as Connect does.
 * Two instances of the real service on one database, one with `grpc.direct_path` (the default)
 * and one without, get the same raw HTTP/2 requests — well-formed, refused, malformed — and must
 * give the same answers: status, headers, message bytes and trailers (date and the minted request
 * id aside). Streams too: a WatchConfig replay (from_revision) gives both the same messages.
 */
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { createTestDatabase, type TestDatabase } from '@k1s0/platform/testing';
import { configV1 } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigServer, put, startConfigServer, tokens } from './support/service.js';

const SERVICE = '/k1s0.system.config.v1.ConfigService';
const NAMESPACE = 'system.unary-path';
const MAX_RECV = 64 * 1024;

let testDb: TestDatabase;
let direct: ConfigServer;
let connectOnly: ConfigServer;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const grpc = (directUnary: boolean) => ({
    grpc: { direct_path: directUnary, max_recv_msg_size: MAX_RECV },
  });
  direct = await startConfigServer(testDb.url, {}, grpc(true));
  connectOnly = await startConfigServer(testDb.url, {}, grpc(false));
  await put(direct, NAMESPACE, 'k', { a: 1 });
}, 60_000);
afterAll(async () => {
  await direct?.stop();
  await connectOnly?.stop();
  await testDb?.drop();
});

interface Answer {
  headers: Record<string, unknown>;
  body: string;
  trailers: Record<string, unknown>;
}

/** A new connection and one call on it, as grpc-js sends it (admin token unless `headers` say otherwise). */
function open(
  server: ConfigServer,
  method: string,
  onError: (error: Error) => void,
  headers: Record<string, string> = {},
) {
  const session = connect(`http://127.0.0.1:${server.grpcPort}`);
  session.on('error', onError);
  const stream = session.request({
    ':method': 'POST',
    ':path': `${SERVICE}/${method}`,
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    authorization: `Bearer ${tokens.admin}`,
    ...headers,
  });
  return { session, stream };
}

/** One raw call: `body` as sent (enveloped or not), the answer with date and minted ids removed. */
function call(
  server: ConfigServer,
  method: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { session, stream } = open(server, method, reject, headers);
    const answer: Answer = { headers: {}, body: '', trailers: {} };
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      answer.headers = clean(h);
    });
    stream.on('trailers', (t) => {
      answer.trailers = clean(t);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      answer.body = Buffer.concat(chunks).toString('base64');
      session.close();
      resolve(answer);
    });
    stream.end(Buffer.from(body));
  });
}

function clean(headers: IncomingHttpHeaders): Record<string, unknown> {
  const { date: _date, 'x-request-id': _id, ...rest } = headers;
  return rest;
}

function envelope(message: Uint8Array, flags = 0, declaredLength = message.length): Uint8Array {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(flags, 0);
  frame.writeUInt32BE(declaredLength, 1);
  frame.set(message, 5);
  return frame;
}

/** The first `count` messages of a stream (its headers too), then the client cancels it. */
function firstMessages(server: ConfigServer, method: string, body: Uint8Array, count: number) {
  return new Promise<{ headers: Record<string, unknown>; messages: string[] }>((resolve, reject) => {
    const { session, stream } = open(server, method, reject);
    let headers: Record<string, unknown> = {};
    let buffered = Buffer.alloc(0);
    const messages: string[] = [];
    stream.on('response', (h) => {
      headers = clean(h);
    });
    stream.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
        const end = 5 + buffered.readUInt32BE(1);
        messages.push(buffered.subarray(0, end).toString('base64'));
        buffered = buffered.subarray(end);
      }
      if (messages.length >= count) {
        stream.close();
        session.close();
        resolve({ headers, messages: messages.slice(0, count) });
      }
    });
    stream.on('error', reject);
    stream.on('close', () => reject(new Error(`stream ended after ${messages.length} of ${count} messages`)));
    stream.end(Buffer.from(body));
  });
}

const getRequest = (key: string, namespace = NAMESPACE) =>
  toBinary(configV1.GetConfigRequestSchema, create(configV1.GetConfigRequestSchema, { namespace, key }));

async function same(method: string, body: Uint8Array, headers?: Record<string, string>) {
  const fromConnect = await call(connectOnly, method, body, headers);
  const fromDirect = await call(direct, method, body, headers);
  expect(fromDirect).toEqual(fromConnect);
  return fromDirect;
}

describe('the direct unary path answers as Connect does', () => {
  it('a found entry: headers, the message bytes, grpc-status 0', async () => {
    const answer = await same('GetConfig', envelope(getRequest('k')));
    expect(answer.headers[':status']).toBe(200);
    expect(answer.trailers['grpc-status']).toBe('0');
    expect(Buffer.from(answer.body, 'base64').length).toBeGreaterThan(5 + NAMESPACE.length);
  });

  it('use-case errors: not found, invalid namespace (with x-error-code)', async () => {
    const missing = await same('GetConfig', envelope(getRequest('none')));
    expect(missing.trailers['grpc-status']).toBe('5');
    expect(missing.trailers['x-error-code']).toBe('SYS_CONFIG_KEY_NOT_FOUND');
    const invalid = await same('GetConfig', envelope(getRequest('k', 'bad')));
    expect(invalid.trailers['grpc-status']).toBe('3');
  });

  it('refused callers: no token, a forged token, a role without the right', async () => {
    const body = envelope(getRequest('k'));
    expect((await same('GetConfig', body, { authorization: '' })).trailers['grpc-status']).toBe('16');
    expect((await same('GetConfig', body, { authorization: 'Bearer forged' })).trailers['grpc-status']).toBe(
      '16',
    );
    const update = toBinary(
      configV1.UpdateConfigRequestSchema,
      create(configV1.UpdateConfigRequestSchema, { namespace: NAMESPACE, key: 'k', version: 1 }),
    );
    const denied = await same('UpdateConfig', envelope(update), {
      authorization: `Bearer ${tokens.auditor}`,
    });
    expect(denied.trailers['grpc-status']).toBe('7');
  });

  it('malformed bodies: undecodable bytes, invalid UTF-8, none, two messages, cut short, compressed flag', async () => {
    const codes = [];
    codes.push(await same('GetConfig', envelope(Uint8Array.of(0x0a, 0xff))));
    codes.push(await same('GetConfig', envelope(Uint8Array.of(0x0a, 0x03, 0xed, 0xa0, 0x80))));
    codes.push(await same('GetConfig', new Uint8Array()));
    const one = envelope(getRequest('k'));
    codes.push(await same('GetConfig', Buffer.concat([one, one])));
    codes.push(await same('GetConfig', envelope(getRequest('k'), 0, 100)));
    codes.push(await same('GetConfig', Uint8Array.of(0, 0)));
    codes.push(await same('GetConfig', envelope(getRequest('k'), 1)));
    expect(codes.map((answer) => answer.trailers['grpc-status'])).toEqual([
      '3',
      '3',
      '12',
      '12',
      '3',
      '3',
      '13',
    ]);
  });

  it('a message over grpc.max_recv_msg_size, and a bad grpc-timeout', async () => {
    const big = await same('GetConfig', envelope(new Uint8Array(16), 0, MAX_RECV + 1));
    expect(big.trailers['grpc-status']).toBe('8');
    const timeout = await same('GetConfig', envelope(getRequest('k')), { 'grpc-timeout': 'soon' });
    expect(timeout.trailers['grpc-status']).toBe('3');
  });

  it('a write: UpdateConfig with a stale version on both, then a good one on each', async () => {
    const stale = toBinary(
      configV1.UpdateConfigRequestSchema,
      create(configV1.UpdateConfigRequestSchema, {
        namespace: NAMESPACE,
        key: 'k',
        version: 99,
        value: new TextEncoder().encode('{"a":2}'),
      }),
    );
    expect((await same('UpdateConfig', envelope(stale))).trailers['grpc-status']).toBe('10');
    for (const [server, version] of [
      [connectOnly, 1],
      [direct, 2],
    ] as const) {
      const good = toBinary(
        configV1.UpdateConfigRequestSchema,
        create(configV1.UpdateConfigRequestSchema, {
          namespace: NAMESPACE,
          key: 'k',
          version,
          value: new TextEncoder().encode(`{"a":${version + 1}}`),
        }),
      );
      const answer = await call(server, 'UpdateConfig', envelope(good));
      expect(answer.trailers['grpc-status']).toBe('0');
    }
  });

  it('a WatchConfig replay: the same headers and message bytes; a refused or invalid watch: the same answer', async () => {
    const namespace = `${NAMESPACE}.watch`;
    await put(direct, namespace, 'a', { n: 1 });
    await put(direct, namespace, 'b', { n: 2 });
    const watch = (namespaces: string[]) =>
      envelope(
        toBinary(
          configV1.WatchConfigRequestSchema,
          create(configV1.WatchConfigRequestSchema, { namespaces, fromRevision: 0n }),
        ),
      );
    const fromConnect = await firstMessages(connectOnly, 'WatchConfig', watch([namespace]), 2);
    const fromDirect = await firstMessages(direct, 'WatchConfig', watch([namespace]), 2);
    expect(fromDirect).toEqual(fromConnect);
    expect(fromDirect.messages).toHaveLength(2);
    expect((await same('WatchConfig', watch(['bad']))).trailers['grpc-status']).toBe('3');
    expect(
      (await same('WatchConfig', watch([namespace]), { authorization: '' })).trailers['grpc-status'],
    ).toBe('16');
  });
});
