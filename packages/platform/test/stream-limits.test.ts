import { Code, createContextValues, type Interceptor, type UnaryResponse } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { createStreamLimiter } from '../src/http/stream-limits.js';
import { codeOf } from '../src/testing/connect-code.js';

type Next = Parameters<Interceptor>[0];
type StreamRequest = Parameters<Next>[0];

/** A server-streaming call as Connect hands it to an interceptor (only what the limiter reads). */
function streamCall(): StreamRequest {
  return {
    method: { methodKind: 'server_streaming' },
    contextValues: createContextValues(),
    signal: new AbortController().signal,
  } as unknown as StreamRequest;
}

const openStream: Next = async () =>
  ({
    stream: true,
    message: (async function* () {})(),
  }) as unknown as UnaryResponse;

describe('stream admission by heap use', () => {
  it('refuses a new stream with RESOURCE_EXHAUSTED while the heap is above the fraction, and admits it again below', async () => {
    let used = 70;
    const limiter = createStreamLimiter({
      perCaller: 100,
      total: 100,
      heapFraction: 0.8,
      heap: () => ({ used, limit: 100 }),
    });
    const open = () => limiter.interceptor(openStream)(streamCall());
    expect(await codeOf(open())).toBeUndefined();
    used = 81;
    expect(await codeOf(open())).toBe(Code.ResourceExhausted);
    // The refused call took no slot.
    expect(limiter.open()).toBe(1);
    used = 79;
    expect(await codeOf(open())).toBeUndefined();
    expect(limiter.open()).toBe(2);
  });

  it('with heapFraction 1 never looks at the heap', async () => {
    const limiter = createStreamLimiter({
      perCaller: 100,
      total: 100,
      heapFraction: 1,
      heap: () => ({ used: 200, limit: 100 }),
    });
    expect(await codeOf(limiter.interceptor(openStream)(streamCall()))).toBeUndefined();
  });

  it('reads the real V8 heap by default: a process far from its limit admits', async () => {
    const limiter = createStreamLimiter({ perCaller: 1, total: 1 });
    expect(await codeOf(limiter.interceptor(openStream)(streamCall()))).toBeUndefined();
  });
});
