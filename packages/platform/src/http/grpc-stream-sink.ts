import type { ServerHttp2Stream } from 'node:http2';
import type { StreamSink } from '../streams/push-stream.js';

/**
 * Writes a server stream's messages to its HTTP/2 stream as they are pushed (platform streams):
 * a message framed in the call that pushes it is written in that call, so one change pushed to
 * thousands of watches becomes thousands of plain `write`s, no promise per stream (issue 13).
 * While the stream is over its buffer (a client that reads slowly, or not at all) frames wait
 * here, a reference each, rather than as Node's per-write bookkeeping; they go out on `drain`.
 * Compressed frames (an asynchronous compressor) queue behind each other to keep the order.
 * `outcome` settles once the stream is over (the producer ended it, or the client went away): after
 * every held frame is handed to the stream, or at once with the error it ended with.
 */
export class GrpcStreamSink<T> implements StreamSink<T> {
  /** Frames pushed and not yet handed to the socket (waiting here, or in the stream's buffer). */
  backlog = 0;
  readonly outcome: Promise<unknown>;
  private settle: (error: unknown) => void = () => {};
  private compressing: Promise<void> | undefined;
  /** Frames waiting for `drain`, oldest first from `heldFrom`. */
  private held: Uint8Array[] = [];
  private heldFrom = 0;
  private waiters: (() => void)[] = [];
  private failure: unknown;
  private ended = false;
  private endError: unknown;
  private settled = false;
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
    stream.on('drain', this.flush);
    stream.once('close', this.flush);
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
    const wait = () =>
      this.takesMore() ? undefined : new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.compressing === undefined ? Promise.resolve(wait()) : this.compressing.then(wait);
  }

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    if (this.compressing === undefined) this.settleIfWritten();
    else void this.compressing.then(() => this.settleIfWritten());
  }

  private write(bytes: Uint8Array): boolean {
    const { stream } = this;
    if (stream.destroyed) {
      this.backlog--;
      return false;
    }
    if (this.heldFrom < this.held.length || stream.writableNeedDrain) {
      this.held.push(bytes);
      return false;
    }
    return stream.write(bytes, this.written);
  }

  /** On `drain` (and `close`): hands held frames to the stream until it is full again. */
  private readonly flush = () => {
    const { stream } = this;
    while (this.heldFrom < this.held.length && !stream.destroyed) {
      const bytes = this.held[this.heldFrom++] as Uint8Array;
      if (!stream.write(bytes, this.written)) break;
    }
    if (this.heldFrom === this.held.length || stream.destroyed) {
      this.held = [];
      this.heldFrom = 0;
    }
    if (this.takesMore()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
    if (this.ended) this.settleIfWritten();
  };

  private takesMore(): boolean {
    const { stream } = this;
    return stream.destroyed || (this.heldFrom === this.held.length && !stream.writableNeedDrain);
  }

  /**
   * Settles a normal end once every held frame is handed to the stream; an end with an error at
   * once, dropping held frames (the client resumes from what it received).
   */
  private settleIfWritten(): void {
    if (this.settled) return;
    const error = this.failure ?? this.endError;
    if (error === undefined && this.heldFrom < this.held.length && !this.stream.destroyed) return;
    this.settled = true;
    this.held = [];
    this.heldFrom = 0;
    this.stream.off('drain', this.flush);
    this.settle(error);
  }
}
