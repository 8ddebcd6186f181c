import { describe, expect, it } from 'vitest';
import {
  hookedStream,
  lazyStream,
  PullQueue,
  pipeTo,
  pushableStream,
  type StreamSink,
} from '../src/streams/index.js';

/** A sink that records what reaches it; `wants` says what push answers. */
function recordingSink<T>(wants = true) {
  const seen: T[] = [];
  let ended: { error: unknown } | undefined;
  let resolveEnd: () => void = () => {};
  const endedPromise = new Promise<void>((resolve) => {
    resolveEnd = resolve;
  });
  const sink: StreamSink<T> & {
    seen: T[];
    ended: () => { error: unknown } | undefined;
    over: Promise<void>;
  } = {
    seen,
    ended: () => ended,
    over: endedPromise,
    push(item) {
      seen.push(item);
      return wants;
    },
    backlog: 0,
    drained: () => Promise.resolve(),
    end(error?: unknown) {
      if (ended) throw new Error('end called twice');
      ended = { error };
      resolveEnd();
    },
  };
  return sink;
}

/** A producer that pushes what `emit` is given, synchronously, and records whether it was stopped. */
function manualProducer<T>() {
  let target: StreamSink<T> | undefined;
  const state = { stopped: false };
  const stream = pushableStream<T>((sink) => {
    target = sink;
    return () => {
      state.stopped = true;
    };
  });
  return {
    stream,
    state,
    emit: (item: T) => target?.push(item),
    end: (error?: unknown) => target?.end(error),
    backlog: () => target?.backlog ?? -1,
  };
}

/** The message of the error a recording sink was ended with. */
const endedWith = (sink: { ended: () => { error: unknown } | undefined }) =>
  (sink.ended()?.error as Error | undefined)?.message;

async function* numbers(n: number, failAt?: number): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) {
    if (i === failAt) throw new Error(`failed at ${i}`);
    yield i;
  }
}

describe('PullQueue', () => {
  it('hands items over in order, whether the reader waits or comes later', async () => {
    const q = new PullQueue<number>();
    const waiting = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(q.backlog).toBe(2);
    expect(await waiting).toEqual({ done: false, value: 1 });
    expect(await q.next()).toEqual({ done: false, value: 2 });
    expect(await q.next()).toEqual({ done: false, value: 3 });
    expect(q.backlog).toBe(0);
  });

  it('asks for more only while a reader waits', async () => {
    const q = new PullQueue<number>();
    let asked = false;
    void q.drained().then(() => {
      asked = true;
    });
    await Promise.resolve();
    expect(asked).toBe(false);
    const waiting = q.next();
    await Promise.resolve();
    expect(asked).toBe(true);
    expect(q.push(1)).toBe(false); // handed to the reader, who asked for one
    expect(await waiting).toEqual({ done: false, value: 1 });
  });

  it('a normal end lets the reader take what is queued first', async () => {
    const q = new PullQueue<number>();
    q.push(1);
    q.end();
    expect(await q.next()).toEqual({ done: false, value: 1 });
    expect(await q.next()).toEqual({ done: true, value: undefined });
  });

  it('an end with an error drops what is queued and fails this and every later read', async () => {
    const q = new PullQueue<number>();
    q.push(1);
    const error = new Error('feed down');
    q.end(error);
    await expect(q.next()).rejects.toBe(error);
    await expect(q.next()).rejects.toBe(error);
    const waiting = new PullQueue<number>();
    const read = waiting.next();
    waiting.end(error);
    await expect(read).rejects.toBe(error);
  });

  it('close ends a waiting reader and every later read, dropping what is queued; the first outcome stays', async () => {
    const q = new PullQueue<number>();
    const waiting = q.next();
    q.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    q.push(1);
    q.end(new Error('late'));
    expect(await q.next()).toEqual({ done: true, value: undefined });
    const failed = new PullQueue<number>();
    failed.end(new Error('first'));
    failed.end(new Error('second'));
    await expect(failed.next()).rejects.toThrow('first');
  });
});

describe('pushableStream', () => {
  it('pulled: starts on the first next() and stops when the reader returns', async () => {
    const producer = manualProducer<number>();
    const first = producer.stream.next();
    producer.emit(1);
    producer.emit(2);
    expect(await first).toEqual({ done: false, value: 1 });
    expect(producer.backlog()).toBe(1);
    await producer.stream.return?.();
    expect(producer.state.stopped).toBe(true);
    expect(await producer.stream.next()).toEqual({ done: true, value: undefined });
  });

  it('what the start throws ends the stream with it, pushed or pulled', async () => {
    const failing = () =>
      pushableStream<number>(() => {
        throw new Error('invalid input');
      });
    await expect(failing().next()).rejects.toThrow('invalid input');
    const sink = recordingSink<number>();
    failing().pushTo(sink);
    expect(endedWith(sink)).toBe('invalid input');
  });

  it('is read once: a second consumer is refused', () => {
    const producer = manualProducer<number>();
    producer.stream.pushTo(recordingSink());
    expect(() => producer.stream.pushTo(recordingSink())).toThrow('already consumed');
  });
});

describe('hookedStream on a pushable stream', () => {
  it('stays pushable; maps each message, runs done then finally once at the end', () => {
    const calls: string[] = [];
    const producer = manualProducer<number>();
    const hooked = hookedStream(producer.stream, {
      message: (n) => n * 10,
      done: () => calls.push('done'),
      finally: () => calls.push('finally'),
    });
    const sink = recordingSink<number>();
    pipeTo(hooked, sink);
    producer.emit(1);
    producer.emit(2);
    producer.end();
    expect(sink.seen).toEqual([10, 20]);
    expect(calls).toEqual(['done', 'finally']);
    expect(sink.ended()).toEqual({ error: undefined });
  });

  it('an error end is mapped by the error hook; finally once, done not called', () => {
    const calls: string[] = [];
    const producer = manualProducer<number>();
    const sink = recordingSink<number>();
    pipeTo(
      hookedStream(producer.stream, {
        error: (e) => new Error(`mapped: ${(e as Error).message}`),
        done: () => calls.push('done'),
        finally: () => calls.push('finally'),
      }),
      sink,
    );
    producer.end(new Error('feed down'));
    expect(endedWith(sink)).toBe('mapped: feed down');
    expect(calls).toEqual(['finally']);
  });

  it('a throwing message hook stops the producer and ends the stream with the mapped error', () => {
    const producer = manualProducer<number>();
    const sink = recordingSink<number>();
    pipeTo(
      hookedStream(producer.stream, {
        message: (n) => {
          if (n === 2) throw new Error('unmappable');
          return n;
        },
        error: (e) => new Error(`mapped: ${(e as Error).message}`),
      }),
      sink,
    );
    producer.emit(1);
    producer.emit(2);
    producer.emit(3); // after the end: not passed on
    expect(sink.seen).toEqual([1]);
    expect(producer.state.stopped).toBe(true);
    expect(endedWith(sink)).toBe('mapped: unmappable');
  });

  it('a throwing done hook ends the stream with its own error', () => {
    const producer = manualProducer<number>();
    const sink = recordingSink<number>();
    pipeTo(
      hookedStream(producer.stream, {
        done: () => {
          throw new Error('shutting down');
        },
        error: () => new Error('not this'),
      }),
      sink,
    );
    producer.end();
    expect(endedWith(sink)).toBe('shutting down');
  });

  it("the consumer's stop runs finally once and stops the producer", () => {
    let finals = 0;
    const producer = manualProducer<number>();
    const stop = pipeTo(hookedStream(producer.stream, { finally: () => finals++ }), recordingSink());
    stop();
    stop();
    expect(finals).toBe(1);
    expect(producer.state.stopped).toBe(true);
  });

  it('passes the backlog and the push answer through', () => {
    const producer = manualProducer<number>();
    const sink = recordingSink<number>(false);
    Object.defineProperty(sink, 'backlog', { get: () => 7 });
    pipeTo(hookedStream(hookedStream(producer.stream, {}), { message: (n) => n }), sink);
    expect(producer.emit(1)).toBe(false);
    expect(producer.backlog()).toBe(7);
  });
});

describe('pipeTo', () => {
  it('pulls a plain async iterable into the sink, then ends it', async () => {
    const sink = recordingSink<number>();
    pipeTo(numbers(3), sink);
    await sink.over;
    expect(sink.seen).toEqual([1, 2, 3]);
    expect(sink.ended()).toEqual({ error: undefined });
  });

  it("ends the sink with the iterable's error", async () => {
    const sink = recordingSink<number>();
    pipeTo(numbers(3, 2), sink);
    await sink.over;
    expect(sink.seen).toEqual([1]);
    expect(endedWith(sink)).toBe('failed at 2');
  });

  it('waits for drained() when the sink asks, and stops pulling when stopped', async () => {
    let release: () => void = () => {};
    let pulled = 0;
    async function* counting() {
      for (;;) {
        pulled++;
        yield pulled;
      }
    }
    const sink = recordingSink<number>(false);
    sink.drained = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    const stop = pipeTo(counting(), sink);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sink.seen).toEqual([1]); // waiting for the sink to drain
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sink.seen).toEqual([1, 2]);
    stop();
    release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sink.seen).toEqual([1, 2]);
    expect(sink.ended()).toBeUndefined();
  });

  it('through lazyStream: opens on start; what open throws ends the stream', async () => {
    const sink = recordingSink<number>();
    pipeTo(
      lazyStream(() => numbers(2)),
      sink,
    );
    await sink.over;
    expect(sink.seen).toEqual([1, 2]);
    const failed = recordingSink<number>();
    pipeTo(
      lazyStream<number>(() => {
        throw new Error('not allowed');
      }),
      failed,
    );
    expect(endedWith(failed)).toBe('not allowed');
  });

  it('through lazyStream over a pushable stream: pushed, not pulled', () => {
    const producer = manualProducer<number>();
    const sink = recordingSink<number>();
    pipeTo(
      lazyStream(() => hookedStream(producer.stream, { message: (n) => n + 1 })),
      sink,
    );
    producer.emit(1);
    expect(sink.seen).toEqual([2]); // synchronously: no promise on the way
  });
});
