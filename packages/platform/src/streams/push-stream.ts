/**
 * Server streams that their producer can drive (issue 13: WatchConfig fan-out). A change reaches
 * thousands of open watches at once; pulled through async iterators, each stream pays several
 * promise jobs per layer per message and nothing reaches a socket until every chain has run. A
 * pushable stream hands each message down a chain of plain calls instead (producer → hooks →
 * the HTTP/2 writer), and is still an ordinary async iterable for every other consumer (Connect's
 * own handlers, the WebSocket feed, tests). Pure: the domain packages build their streams on it.
 */

/** Where a producer puts its messages. */
export interface StreamSink<T> {
  /**
   * Hands one message on. true: push on. false: the consumer wants no more for now; a producer
   * that can wait (a replay, a pump) waits for `drained()` before the next. A producer that
   * cannot (live changes) pushes anyway and watches `backlog`.
   */
  push(item: T): boolean;
  /** Messages pushed and not yet passed on (written out, or read): how far behind the consumer is. */
  readonly backlog: number;
  /** Resolves once the consumer takes more again, or has gone. */
  drained(): Promise<void>;
  /** The stream is over, normally or with `error`. Nothing is pushed after it; later calls are ignored. */
  end(error?: unknown): void;
}

/** Starts a producer into `sink`; the result stops it (the consumer left): it then calls the sink no more. */
export type StartPush<T> = (sink: StreamSink<T>) => () => void;

/** An async iterable that can also push its messages into a sink. */
export interface PushableStream<T> extends AsyncIterable<T> {
  pushTo: StartPush<T>;
}

export function isPushable<T>(stream: AsyncIterable<T>): stream is PushableStream<T> {
  return typeof (stream as Partial<PushableStream<T>>).pushTo === 'function';
}

const noop = () => {};

/**
 * Sends `stream` into `sink`: pushed by its producer when it can, else pulled (one `next()` at a
 * time, waiting for `drained()` when the sink asks). Returns the stop for when the consumer leaves.
 */
export function pipeTo<T>(stream: AsyncIterable<T>, sink: StreamSink<T>): () => void {
  if (isPushable(stream)) return stream.pushTo(sink);
  const iterator = stream[Symbol.asyncIterator]();
  let stopped = false;
  const pump = async () => {
    try {
      for (;;) {
        const result = await iterator.next();
        if (stopped) return;
        if (result.done) break;
        if (!sink.push(result.value)) await sink.drained();
        if (stopped) return;
      }
    } catch (error) {
      if (!stopped) sink.end(error);
      return;
    }
    sink.end();
  };
  void pump();
  return () => {
    if (stopped) return;
    stopped = true;
    iterator.return?.().catch(noop);
  };
}

/**
 * A single-use stream (like a generator object: iterable once, by `next()` or by `pushTo`) whose
 * producer is `start`. What `start` throws ends the stream with that error, as an async generator
 * function's body throwing on the first `next()`.
 */
export function pushableStream<T>(start: StartPush<T>): PushableStream<T> & AsyncIterator<T, undefined> {
  let used = false;
  let stop: (() => void) | undefined;
  let queue: PullQueue<T> | undefined;
  const pushTo = (sink: StreamSink<T>): (() => void) => {
    if (used) throw new Error('stream already consumed');
    used = true;
    try {
      return start(sink);
    } catch (error) {
      sink.end(error);
      return noop;
    }
  };
  const pulled = (): PullQueue<T> => {
    if (queue === undefined) {
      queue = new PullQueue<T>();
      stop = pushTo(queue);
    }
    return queue;
  };
  return {
    pushTo,
    next: () => pulled().next(),
    return: () => {
      stop?.();
      stop = noop;
      used = true;
      queue?.close();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

interface Reader<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/**
 * The sink behind a pulled pushable stream: a queue between a push-style producer and one async
 * reader. It asks for more (`drained()` resolved) only while a reader waits, so a producer that
 * waits is paced by the reader exactly as a generator would be. `close` is the
 * reader leaving (what is queued is dropped); `end(error)` drops what is queued and fails the
 * next read; a normal `end()` lets the reader take what is queued first.
 */
export class PullQueue<T> implements StreamSink<T> {
  private readonly items: T[] = [];
  private reader: Reader<T> | undefined;
  private demand: (() => void) | undefined;
  private failure: { error: unknown } | undefined;
  private ended = false;
  private closed = false;

  get backlog(): number {
    return this.items.length;
  }

  /** Always false: a pushed item is all a waiting reader asked for; the next ask is `drained()`. */
  push(item: T): boolean {
    if (this.over) return false;
    const reader = this.reader;
    this.reader = undefined;
    if (reader === undefined) this.items.push(item);
    else reader.resolve({ done: false, value: item });
    return false;
  }

  drained(): Promise<void> {
    if (this.over || this.reader !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.demand;
      this.demand = () => {
        previous?.();
        resolve();
      };
    });
  }

  end(error?: unknown): void {
    if (this.over) return;
    this.ended = true;
    if (error !== undefined) {
      this.failure = { error };
      this.items.length = 0;
      this.reader?.reject(error);
    } else if (this.items.length === 0) {
      this.reader?.resolve({ done: true, value: undefined });
    }
    this.reader = undefined;
    this.wake();
  }

  /** The reader leaves: what is queued is dropped, reads from now on are done. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    this.reader?.resolve({ done: true, value: undefined });
    this.reader = undefined;
    this.wake();
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    if (this.items.length > 0) return Promise.resolve({ done: false, value: this.items.shift() as T });
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    const waiting = new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.reader = { resolve, reject };
    });
    this.wake();
    return waiting;
  }

  private get over(): boolean {
    return this.ended || this.closed;
  }

  private wake(): void {
    const demand = this.demand;
    this.demand = undefined;
    demand?.();
  }
}
