import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/service-harness.js';

// The official Node gRPC client (grpc-js) loading the .proto sources at run time: proves the
// h2c listener speaks plain gRPC to a client that knows nothing of Connect.
const protoRoot = fileURLToPath(new URL('../../../api/proto', import.meta.url));

interface GrpcError {
  code: number;
  details: string;
  metadata: grpc.Metadata;
}
type Unary = (
  request: object,
  metadata: grpc.Metadata,
  callback: (error: GrpcError | null, response: Record<string, unknown>) => void,
) => void;
type EventStoreStub = grpc.Client & Record<string, Unary>;

let h: Harness;
let stub: EventStoreStub;

beforeAll(async () => {
  h = await startHarness();
  const definition = protoLoader.loadSync('k1s0/system/eventstore/v1/event_store.proto', {
    includeDirs: [protoRoot],
    keepCase: true,
    longs: String,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    k1s0: { system: { eventstore: { v1: { EventStoreService: grpc.ServiceClientConstructor } } } };
  };
  const Service = loaded.k1s0.system.eventstore.v1.EventStoreService;
  stub = new Service(`127.0.0.1:${h.service.grpcPort}`, grpc.credentials.createInsecure()) as EventStoreStub;
});

afterAll(async () => {
  stub?.close();
  await h.stop();
});

function call(method: string, request: object, token?: string): Promise<Record<string, unknown>> {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    stub[method]!(request, metadata, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

describe('grpc-js interop', () => {
  it('appends and reads back with the official client', async () => {
    const appended = await call(
      'AppendEvents',
      {
        stream_id: 'interop-1',
        expected_version: -1,
        events: [{ event_type: 'Created', payload_json: Buffer.from('{"n":1}') }],
      },
      tokenFor('sys_operator'),
    );
    expect(appended.current_version).toBe('1');
    const read = await call('ReadEvents', { stream_id: 'interop-1' }, tokenFor('sys_auditor'));
    const events = read.events as Array<{ version: string; payload_json: Buffer }>;
    expect(events.map((e) => e.version)).toEqual(['1']);
    expect(JSON.parse(events[0]!.payload_json.toString())).toEqual({ n: 1 });
  });

  it('delivers status codes, readable messages and the error code metadata', async () => {
    const missing = await call('ReadEvents', { stream_id: 'no-such-stream' }, tokenFor('sys_auditor')).catch(
      (error: GrpcError) => error,
    );
    expect(missing).toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: 'stream not found: no-such-stream',
    });
    expect((missing as GrpcError).metadata.get('x-error-code')).toEqual(['SYS_EVSTORE_STREAM_NOT_FOUND']);
    const anonymous = await call('ReadEvents', { stream_id: 'interop-1' }).catch((error: GrpcError) => error);
    expect((anonymous as GrpcError).code).toBe(grpc.status.UNAUTHENTICATED);
    const auditorAppend = await call(
      'AppendEvents',
      {
        stream_id: 'interop-1',
        expected_version: -2,
        events: [{ event_type: 'X', payload_json: Buffer.from('{}') }],
      },
      tokenFor('sys_auditor'),
    ).catch((error: GrpcError) => error);
    expect((auditorAppend as GrpcError).code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('SubscribeAll sends its headers while no event is due, then live events, to a client that waits for them', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${tokenFor('sys_auditor')}`);
    const head = await call('ReadAll', { from_sequence: 0, limit: 1000 }, tokenFor('sys_auditor'));
    const next = (head as { next_sequence: string }).next_sequence;
    const stream = (
      stub as unknown as Record<
        string,
        (request: object, metadata: grpc.Metadata) => grpc.ClientReadableStream<unknown>
      >
    ).SubscribeAll!({ from_sequence: next }, metadata);
    const received: Array<{ event: { stream_id: string } }> = [];
    stream.on('data', (message: { event: { stream_id: string } }) => received.push(message));
    stream.on('error', () => {}); // the cancel below ends it with CANCELLED
    // Nothing to send yet: the response metadata must still arrive.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response metadata within 2 s')), 2000);
      stream.once('metadata', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await call(
      'AppendEvents',
      {
        stream_id: 'interop-live',
        expected_version: -1,
        events: [{ event_type: 'Live', payload_json: Buffer.from('{}') }],
      },
      tokenFor('sys_operator'),
    );
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stream.cancel();
    expect(received.map((m) => m.event.stream_id)).toEqual(['interop-live']);
  });
});
