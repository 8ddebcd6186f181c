import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { principalKey } from '../auth/connect-auth.js';

export interface StreamLimits {
  /** Open server streams per caller (token subject; anonymous callers share one key per peer-less bucket). */
  perCaller: number;
  /** Open server streams in total. */
  total: number;
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
 */
export function createStreamLimiter(limits: StreamLimits): StreamLimiter {
  const perCaller = new Map<string, number>();
  let total = 0;

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
      return { ...res, message: releasing(res.message, release) };
    } catch (error) {
      release();
      throw error;
    }
  };
  return { interceptor, open: () => total };
}

async function* releasing<T>(stream: AsyncIterable<T>, release: () => void): AsyncGenerator<T> {
  try {
    yield* stream;
  } finally {
    release();
  }
}
