import { getHeapStatistics } from 'node:v8';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { principalKey } from '../auth/connect-auth.js';
import { hookedStream } from '../streams/stream-hooks.js';

export interface StreamLimits {
  /** Open server streams per caller (token subject; anonymous callers share one key per peer-less bucket). */
  perCaller: number;
  /** Open server streams in total. */
  total: number;
  /**
   * A new stream is refused while the V8 heap in use is above this fraction of its limit
   * (`--max-old-space-size`). Each open stream holds tens of KiB; past the limit V8 aborts the
   * whole process, every other caller's stream and request with it. Default 0.8; 1 = off.
   */
  heapFraction?: number | undefined;
  /** Heap in use and its limit, bytes (tests); default v8.getHeapStatistics(). */
  heap?: (() => { used: number; limit: number }) | undefined;
}

export interface StreamLimiter {
  /** Server interceptor; install after the auth interceptor (it reads the principal). */
  interceptor: Interceptor;
  /** Open streams right now (for tests and metrics). */
  open(): number;
}

const ANONYMOUS = '\u0000anonymous';

/**
 * Caps open server streams (WatchConfig, SubscribeAll, health Watch) per caller and in total,
 * on both ports: each stream holds a subscription and buffers, so an unbounded number lets one
 * token exhaust the process. Beyond a cap the call fails RESOURCE_EXHAUSTED before the handler
 * runs; a slot is released exactly once, when the stream ends, fails or the client goes away.
 * A new stream is also refused while the heap is nearly full (`heapFraction`): the counts alone
 * cannot know what fits under the process's heap limit, and running out of heap kills the process.
 */
export function createStreamLimiter(limits: StreamLimits): StreamLimiter {
  const perCaller = new Map<string, number>();
  let total = 0;
  const heapFraction = limits.heapFraction ?? 0.8;
  const heap = limits.heap ?? v8Heap;

  const acquire = (caller: string): (() => void) => {
    const mine = perCaller.get(caller) ?? 0;
    if (mine >= limits.perCaller) {
      throw new ConnectError(
        `too many open streams for this caller (limit ${limits.perCaller}); close some and retry`,
        Code.ResourceExhausted,
      );
    }
    if (total >= limits.total) {
      throw new ConnectError(
        `too many open streams on this server (limit ${limits.total}); retry later or elsewhere`,
        Code.ResourceExhausted,
      );
    }
    if (heapFraction < 1) {
      const { used, limit } = heap();
      if (used > heapFraction * limit) {
        throw new ConnectError(
          `server memory for streams is exhausted (heap ${Math.round(used / 2 ** 20)} of ${Math.round(limit / 2 ** 20)} MiB); retry later or elsewhere`,
          Code.ResourceExhausted,
        );
      }
    }
    perCaller.set(caller, mine + 1);
    total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      total -= 1;
      const left = (perCaller.get(caller) ?? 1) - 1;
      if (left <= 0) perCaller.delete(caller);
      else perCaller.set(caller, left);
    };
  };

  const interceptor: Interceptor = (next) => async (req) => {
    if (req.method.methodKind !== 'server_streaming' && req.method.methodKind !== 'bidi_streaming') {
      return next(req);
    }
    const caller = req.contextValues.get(principalKey)?.subject ?? ANONYMOUS;
    const release = acquire(caller);
    req.signal.addEventListener('abort', release, { once: true });
    try {
      const res = await next(req);
      if (!res.stream) {
        release();
        return res;
      }
      return { ...res, message: hookedStream(res.message, { finally: release }) };
    } catch (error) {
      release();
      throw error;
    }
  };
  return { interceptor, open: () => total };
}

function v8Heap(): { used: number; limit: number } {
  const stats = getHeapStatistics();
  return { used: stats.used_heap_size, limit: stats.heap_size_limit };
}
