import { recordSpans, type SpanRecorder, waitFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, grpcClient } from './support/grpc-client.js';
import { type Harness, startHarness } from './support/service-harness.js';

/** A W3C traceparent with random ids: version 00, sampled. */
function traceparent(): { header: string; traceId: string; spanId: string } {
  const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
  const traceId = hex(16);
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

describe('W3C traceparent continues the caller trace (SPEC §7)', () => {
  let recorder: SpanRecorder;
  let harness: Harness;

  beforeAll(async () => {
    recorder = recordSpans();
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.stop();
    await recorder?.stop();
  });

  const readEventsSpans = () => recorder.spans().filter((s) => s.name === 'event_store.ReadEvents');
  async function spanOf(traceId: string) {
    const find = () => readEventsSpans().find((s) => s.spanContext().traceId === traceId);
    await waitFor(`a ReadEvents span in trace ${traceId}`, () => find() !== undefined);
    return find()!;
  }

  it('over REST: the use-case span has the incoming trace id and the caller span as parent', async () => {
    const incoming = traceparent();
    const traced = await fetch(`${harness.baseUrl}/api/v1/streams/trace-rest/events`, {
      headers: { ...auth('sys_auditor').headers, traceparent: incoming.header },
    });
    expect(traced.status).toBe(404);
    const span = await spanOf(incoming.traceId);
    expect(span.parentSpanContext?.spanId).toBe(incoming.spanId);
  });

  it('over gRPC: the same for a call carrying traceparent metadata', async () => {
    const incoming = traceparent();
    const client = grpcClient(harness.grpcUrl);
    await client
      .readEvents(
        { streamId: 'trace-grpc' },
        { headers: { ...auth('sys_auditor').headers, traceparent: incoming.header } },
      )
      .catch(() => undefined);
    const span = await spanOf(incoming.traceId);
    expect(span.parentSpanContext?.spanId).toBe(incoming.spanId);
  });

  it('without traceparent a request starts a trace of its own', async () => {
    const before = readEventsSpans().length;
    await harness.call('GET', '/api/v1/streams/trace-none/events', { role: 'sys_auditor' });
    await waitFor('a new ReadEvents span', () => readEventsSpans().length > before);
    expect(readEventsSpans()[before]?.parentSpanContext).toBeUndefined();
  });
});
