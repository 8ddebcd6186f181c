interface Reader<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/**
 * Bounded hand-over queue between a push-style listener and one async consumer. `close` ends the
 * stream (pending items are dropped: the consumer is leaving); `fail` makes the next read throw.
 * A push beyond `capacity` fails the buffer with `overflow()` rather than growing without bound
 * behind a slow consumer.
 */
export class ChangeBuffer<T extends object> {
  private readonly items: T[] = [];
  private reader: Reader<T> | undefined;
  private failure: { error: unknown } | undefined;
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly overflow: () => unknown,
  ) {}

  push(item: T): void {
    if (this.closed || this.failure !== undefined) return;
    const reader = this.takeReader();
    if (reader !== undefined) reader.resolve({ done: false, value: item });
    else if (this.items.length >= this.capacity) this.fail(this.overflow());
    else this.items.push(item);
  }

  fail(error: unknown): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = { error };
    this.items.length = 0;
    this.takeReader()?.reject(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    this.takeReader()?.resolve({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  private takeReader(): Reader<T> | undefined {
    const reader = this.reader;
    this.reader = undefined;
    return reader;
  }
}
