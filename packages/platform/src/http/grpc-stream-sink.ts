import type { ServerHttp2Stream } from 'node:http2';
import type { StreamSink } from '../streams/push-stream.js';

/**
 * Writes a server stream's messages to its HTTP/2 stream as they are pushed (platform streams):
 * a message framed in the call that pushes it is written in that call, so one change pushed to
 * thousands of watches becomes thousands of plain `write`s, no promise per stream (issue 13).
 * Compressed frames (an asynchronous compressor) queue behind each other to keep the order.
 * `outcome` settles once the stream is over (the producer ended it, or the client went away) and
 * every frame is written: with the error it ended with, or undefined.
 */
export class GrpcStreamSink<T> implements StreamSink<T> {
  backlog = 0;
  readonly outcome: Promise<unknown>;
  private settle: (error: unknown) => void = () => {};
  private compressing: Promise<void> | undefined;
  private failure: unknown;
  private ended = false;
  private readonly written = () => {
    this.backlog--;
  };

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly frame: (item: T) => Uint8Array | Promise<Uint8Array>,
  ) {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  push(item: T): boolean {
    if (this.ended || this.stream.destroyed) return false;
    let frame: Uint8Array | Promise<Uint8Array>;
    try {
      frame = this.frame(item);
    } catch (error) {
      this.end(error);
      return false;
    }
    this.backlog++;
    if (this.compressing === undefined && !(frame instanceof Promise)) return this.write(frame);
    this.compressing = (this.compressing ?? Promise.resolve())
      .then(() => frame)
      .then(
        (bytes) => {
          this.write(bytes);
        },
        (error: unknown) => {
          this.backlog--;
          this.failure ??= error;
        },
      );
    return false;
  }

  drained(): Promise<void> {
    return this.compressing === undefined ? this.writable() : this.compressing.then(() => this.writable());
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const settle = () => this.settle(this.failure ?? error);
    if (this.compressing === undefined) settle();
    else void this.compressing.then(settle);
  }

  private write(bytes: Uint8Array): boolean {
    if (this.stream.destroyed) {
      this.backlog--;
      return false;
    }
    return this.stream.write(bytes, this.written);
  }

  /** Resolves once the stream takes more (backpressure), or has closed. */
  private writable(): Promise<void> {
    const { stream } = this;
    if (stream.destroyed || !stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.once('drain', done);
      stream.once('close', done);
    });
  }
}
