/**
 * Thin wrappers around an async iterable for the per-message layers of a server stream (error
 * mapping, end-of-stream checks, releasing a slot, mapping each message). An async generator per
 * layer costs several promise jobs per message in each layer (its own queue, the await of the
 * inner result, the resolution of its own); with thousands of streams receiving the same change
 * that was most of WatchConfig's fan-out (issue 13). These forward each `next()` with one `.then`,
 * and on a pushable stream stay pushable: the hooks then run as plain calls on the way down.
 */
import { isPushable, type PushableStream, pipeTo, type StreamSink } from './push-stream.js';

export interface StreamHooks<T, U> {
  /** Each message on its way out (may replace it). */
  message?(value: T): U;
  /** After the last message (normal end); may throw to end the stream with an error instead. */
  done?(): void;
  /** The stream failed: returns the error it ends with. */
  error?(error: unknown): unknown;
  /** Once, however the stream ends: done, failed, or the consumer's `return()` / `throw()`. */
  finally?(): void;
}

export function hookedStream<T, U = T>(stream: AsyncIterable<T>, hooks: StreamHooks<T, U>): AsyncIterable<U> {
  const pulled: AsyncIterable<U> = {
    [Symbol.asyncIterator](): AsyncIterator<U> {
      const inner = stream[Symbol.asyncIterator]();
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        hooks.finally?.();
      };
      const onResult = (result: IteratorResult<T>): IteratorResult<U> => {
        if (result.done) {
          try {
            hooks.done?.();
          } finally {
            end();
          }
          return result;
        }
        // Without a message hook U is T (the default type argument).
        if (hooks.message === undefined) return result as unknown as IteratorResult<U>;
        let value: U;
        try {
          value = hooks.message(result.value);
        } catch (error) {
          return onError(error);
        }
        return { done: false, value };
      };
      const onError = (error: unknown): never => {
        end();
        throw hooks.error ? hooks.error(error) : error;
      };
      return {
        next: () => inner.next().then(onResult, onError),
        return: (value?: unknown) => {
          end();
          return inner.return
            ? inner.return(value).then(onResultAfterEnd<U>, onError)
            : Promise.resolve({ done: true, value: undefined as U });
        },
        throw: (error?: unknown) => {
          end();
          return inner.throw ? inner.throw(error).then(onResultAfterEnd<U>, onError) : Promise.reject(error);
        },
      };
    },
  };
  if (!isPushable(stream)) return pulled;
  const pushable: PushableStream<U> = {
    [Symbol.asyncIterator]: () => pulled[Symbol.asyncIterator](),
    pushTo: (sink) => pushHooked(stream, hooks, sink),
  };
  return pushable;
}

/**
 * The same hooks on a pushed stream: plain calls on the way down, no promise per message. A class,
 * not an object literal with a getter: thousands of literals each get their own accessor and so
 * their own hidden class, and reading `backlog` through them was a quarter of a 10,000-watch
 * fan-out (megamorphic lookups).
 */
function pushHooked<T, U>(
  stream: PushableStream<T>,
  hooks: StreamHooks<T, U>,
  sink: StreamSink<U>,
): () => void {
  const hooked = new HookedSink(hooks, sink);
  hooked.started(stream.pushTo(hooked));
  return () => hooked.stop();
}

class HookedSink<T, U> implements StreamSink<T> {
  private ended = false;
  private stopInner: (() => void) | undefined;
  private stopWanted = false;

  constructor(
    private readonly hooks: StreamHooks<T, U>,
    private readonly sink: StreamSink<U>,
  ) {}

  /** The producer's stop, once its pushTo returned (it may have ended the stream before that). */
  started(stopInner: () => void): void {
    this.stopInner = stopInner;
    if (this.stopWanted) stopInner();
  }

  /** The consumer left: finally once, and the producer stops. */
  stop(): void {
    this.finish();
    this.stopProducer();
  }

  get backlog(): number {
    return this.sink.backlog;
  }

  push(item: T): boolean {
    if (this.ended) return false;
    const { message } = this.hooks;
    if (message === undefined) return this.sink.push(item as unknown as U);
    let value: U;
    try {
      value = message(item);
    } catch (error) {
      this.stopProducer();
      this.fail(error);
      return false;
    }
    return this.sink.push(value);
  }

  drained(): Promise<void> {
    return this.sink.drained();
  }

  end(error?: unknown): void {
    if (this.ended) return;
    if (error !== undefined) {
      this.fail(error);
      return;
    }
    // As the pulled form: a throwing done hook ends the stream with its own error, unmapped.
    try {
      this.hooks.done?.();
    } catch (doneError) {
      this.finish();
      this.sink.end(doneError);
      return;
    }
    this.finish();
    this.sink.end();
  }

  private fail(error: unknown): void {
    if (!this.finish()) return;
    this.sink.end(this.hooks.error ? this.hooks.error(error) : error);
  }

  private finish(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.hooks.finally?.();
    return true;
  }

  private stopProducer(): void {
    if (this.stopInner === undefined) this.stopWanted = true;
    else this.stopInner();
  }
}

/** A result after the consumer ended the stream: passed on as done. */
function onResultAfterEnd<U>(result: IteratorResult<unknown>): IteratorResult<U> {
  return result.done ? (result as IteratorResult<U>) : { done: true, value: undefined as U };
}

/**
 * A stream made by `open()` on the first `next()`, as an async generator function's body would
 * run: what `open` throws fails that `next()`, not the call that created the stream.
 */
export function lazyStream<T>(open: () => AsyncIterable<T>): PushableStream<T> {
  return {
    pushTo(sink) {
      let inner: AsyncIterable<T>;
      try {
        inner = open();
      } catch (error) {
        sink.end(error);
        return () => {};
      }
      return pipeTo(inner, sink);
    },
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | undefined;
      let finished = false;
      return {
        next: () => {
          if (inner === undefined) {
            if (finished) return Promise.resolve({ done: true, value: undefined });
            try {
              inner = open()[Symbol.asyncIterator]();
            } catch (error) {
              finished = true;
              return Promise.reject(error);
            }
          }
          return inner.next();
        },
        return: (value?: unknown) => {
          finished = true;
          if (inner?.return) return inner.return(value);
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}
