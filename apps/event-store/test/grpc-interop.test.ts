import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, tokenFor } from './support/service-harness.js';

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
});
