import { once } from 'node:events';
import { type ClientHttp2Stream, connect, createServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcStreamSink } from '../src/http/grpc-stream-sink.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** A real HTTP/2 server and client (closed after the test); each test gets the server side of one stream. */
async function http2Pair(): Promise<{
  open: () => Promise<{ serverStream: ServerHttp2Stream; clientStream: ClientHttp2Stream }>;
}> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  cleanup = () => {
    client.close();
    server.close();
  };
  const open = async () => {
    const serverSide = once(server, 'stream') as Promise<[ServerHttp2Stream]>;
    const clientStream = client.request({ ':method': 'POST', ':path': '/x' });
    clientStream.end();
    const [serverStream] = await serverSide;
    serverStream.respond({ ':status': 200 });
    return { serverStream, clientStream };
  };
  return { open };
}

const frameOf = (n: number) => Buffer.from([n]);

async function received(stream: ClientHttp2Stream): Promise<number[]> {
  const bytes: number[] = [];
  for await (const chunk of stream) bytes.push(...(chunk as Buffer));
  return bytes;
}

describe('GrpcStreamSink', () => {
  it('writes each pushed frame in the call, counts the backlog until written, settles on end', async () => {
    const { open } = await http2Pair();
    const { serverStream, clientStream } = await open();
    const sink = new GrpcStreamSink<number>(serverStream, frameOf);
    const reading = received(clientStream);
    expect(sink.push(1)).toBe(true);
    expect(sink.push(2)).toBe(true);
    expect(sink.backlog).toBe(2); // written to the stream, not yet handed to the socket
    await sink.drained();
    sink.end();
    expect(await sink.outcome).toBeUndefined();
    serverStream.end();
    expect(await reading).toEqual([1, 2]);
    expect(sink.backlog).toBe(0);
  });

  it('keeps the order when some frames are compressed (asynchronous) and others are not', async () => {
    const { open } = await http2Pair();
    const { serverStream, clientStream } = await open();
    // Frame 1 takes longest to "compress", 2 is immediate, 3 resolves before 1.
    const delays: Record<number, number> = { 1: 30, 3: 5 };
    const sink = new GrpcStreamSink<number>(serverStream, (n) => {
      const delay = delays[n];
      if (delay === undefined) return frameOf(n);
      return new Promise((resolve) => setTimeout(() => resolve(frameOf(n)), delay));
    });
    const reading = received(clientStream);
    expect(sink.push(1)).toBe(false); // queued: wait for drained() before more
    sink.push(2);
    sink.push(3);
    sink.end(new Error('ended after three'));
    expect(((await sink.outcome) as Error).message).toBe('ended after three'); // after every frame
    serverStream.end();
    expect(await reading).toEqual([1, 2, 3]);
  });

  it('ends with a framing error: nothing after it is written', async () => {
    const { open } = await http2Pair();
    const { serverStream, clientStream } = await open();
    const sink = new GrpcStreamSink<number>(serverStream, (n) => {
      if (n === 2) throw new Error('serialize binary: bad');
      return frameOf(n);
    });
    const reading = received(clientStream);
    sink.push(1);
    expect(sink.push(2)).toBe(false);
    expect(sink.push(3)).toBe(false);
    expect(((await sink.outcome) as Error).message).toBe('serialize binary: bad');
    serverStream.end();
    expect(await reading).toEqual([1]);
  });

  it('a client that stops reading leaves the frames in the backlog; drained() waits until it reads', async () => {
    const { open } = await http2Pair();
    const { serverStream, clientStream } = await open();
    clientStream.pause();
    const big = Buffer.alloc(64 * 1024, 7);
    const sink = new GrpcStreamSink<number>(serverStream, () => big);
    // The connection's and the stream's flow-control windows (64 KiB) fill, then the writes wait.
    for (let i = 0; i < 8; i++) sink.push(i);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.backlog).toBeGreaterThan(4);
    let drained = false;
    const waiting = sink.drained().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(drained).toBe(false);
    const reading = received(clientStream);
    await waiting;
    sink.end();
    await sink.outcome;
    serverStream.end();
    expect((await reading).length).toBe(8 * big.length);
    expect(sink.backlog).toBe(0);
  });

  it('holds frames itself while the client does not read, and a normal end waits for them; an error end does not', async () => {
    const { open } = await http2Pair();
    const { serverStream, clientStream } = await open();
    clientStream.pause();
    const frames = 50;
    const sink = new GrpcStreamSink<number>(serverStream, (n) => Buffer.alloc(16 * 1024, n));
    for (let i = 0; i < frames; i++) sink.push(i);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.backlog).toBeGreaterThan(frames - 8); // at most the flow-control window went out
    // Node's stream buffer holds about its high-water mark, not the 800 KiB pushed.
    expect(serverStream.writableLength).toBeLessThan(64 * 1024);
    sink.end();
    const settled = await Promise.race([
      sink.outcome.then(() => 'settled'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 30)),
    ]);
    expect(settled).toBe('waiting');
    const reading = received(clientStream);
    expect(await sink.outcome).toBeUndefined();
    serverStream.end();
    const bytes = await reading;
    expect(bytes.length).toBe(frames * 16 * 1024);
    expect(Array.from({ length: frames }, (_, i) => bytes[i * 16 * 1024])).toEqual(
      Array.from({ length: frames }, (_, i) => i),
    );

    const second = await open();
    second.clientStream.pause();
    const failing = new GrpcStreamSink<number>(second.serverStream, (n) => Buffer.alloc(16 * 1024, n));
    for (let i = 0; i < frames; i++) failing.push(i);
    failing.end(new Error('fell behind'));
    expect(((await failing.outcome) as Error).message).toBe('fell behind');
  });
});
