import { Code, ConnectError } from '@connectrpc/connect';
import { defaultEventStoreLimits, sizedEvents, utf8ByteLength } from '@k1s0/eventstore-domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, encodeJson, grpcClient } from './support/grpc-client.js';
import { type Harness, startHarness } from './support/service-harness.js';

// issue 10 finding 6: one per-event and per-request size limit for REST and gRPC, checked by the
// append use case before the write (defaults: 900 KiB per event, 1 MiB per append).
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.stop();
});

const { maxEventBytes, maxRequestBytes } = defaultEventStoreLimits;
/** A payload whose JSON is `bytes` long: a string of ASCII. */
const payloadOf = (bytes: number) => 'x'.repeat(bytes - 2);

async function grpcError(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error('expected the call to fail');
}

describe('event size limits', () => {
  it('counts UTF-8 bytes of the serialized JSON, payload and metadata', () => {
    expect(utf8ByteLength('aé€😀')).toBe(1 + 2 + 3 + 4);
    const [event] = sizedEvents([{ payload: 'é', metadata: {} }], { maxEventBytes: 7, maxRequestBytes: 7 });
    expect(event?.payloadJson).toBe('"é"');
    expect(() =>
      sizedEvents([{ payload: 'é', metadata: {} }], { maxEventBytes: 5, maxRequestBytes: 99 }),
    ).toThrow(/events\[0\] is 6 bytes/);
  });

  it('REST: an event under the body limit but over max_event_bytes → 413 envelope, nothing stored', async () => {
    const res = await h.call('POST', '/api/v1/streams/size-rest-1/events', {
      role: 'sys_operator',
      body: { events: [{ event_type: 'Big', payload: payloadOf(maxEventBytes + 1) }], expected_version: -1 },
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({
      code: 'SYS_EVSTORE_PAYLOAD_TOO_LARGE',
      details: [{ field: 'events[0]' }],
    });
    expect((await h.call('GET', '/api/v1/streams/size-rest-1/events', { role: 'sys_auditor' })).status).toBe(
      404,
    );
  });

  it('gRPC: the same event → RESOURCE_EXHAUSTED, nothing stored', async () => {
    const client = grpcClient(h.grpcUrl);
    const error = await grpcError(
      client.appendEvents(
        {
          streamId: 'size-grpc-1',
          events: [{ eventType: 'Big', payloadJson: encodeJson(payloadOf(maxEventBytes + 1)) }],
          expectedVersion: -1n,
        },
        auth('sys_operator'),
      ),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain('events[0]');
    expect((await grpcError(client.readEvents({ streamId: 'size-grpc-1' }, auth('sys_auditor')))).code).toBe(
      Code.NotFound,
    );
  });

  it('gRPC: events each under the limit but together over max_request_bytes → RESOURCE_EXHAUSTED, none stored', async () => {
    const client = grpcClient(h.grpcUrl);
    const each = Math.floor(maxRequestBytes / 3) - 8; // 2 bytes of "{}" metadata each
    const event = { eventType: 'Part', payloadJson: encodeJson(payloadOf(each)) };
    const error = await grpcError(
      client.appendEvents(
        { streamId: 'size-grpc-2', events: [event, event, event, event], expectedVersion: -1n },
        auth('sys_operator'),
      ),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect((await grpcError(client.readEvents({ streamId: 'size-grpc-2' }, auth('sys_auditor')))).code).toBe(
      Code.NotFound,
    );
    // Three of them fit, and are stored.
    const ok = await client.appendEvents(
      { streamId: 'size-grpc-2', events: [event, event, event], expectedVersion: -1n },
      auth('sys_operator'),
    );
    expect(ok.currentVersion).toBe(3n);
  });

  it('gRPC CreateSnapshot: a state over max_event_bytes → RESOURCE_EXHAUSTED', async () => {
    const client = grpcClient(h.grpcUrl);
    await client.appendEvents(
      {
        streamId: 'size-snap-1',
        events: [{ eventType: 'A', payloadJson: encodeJson(1) }],
        expectedVersion: -1n,
      },
      auth('sys_operator'),
    );
    const error = await grpcError(
      client.createSnapshot(
        { streamId: 'size-snap-1', snapshotVersion: 1n, stateJson: encodeJson(payloadOf(maxEventBytes + 1)) },
        auth('sys_operator'),
      ),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
  });
});
