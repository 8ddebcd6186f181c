import { isAppError } from '../errors/app-error.js';

/** What a batch commit says about one of its requests. */
export type GroupOutcome<O> =
  | { kind: 'done'; value: O }
  | { kind: 'failed'; error: unknown }
  /** Not decided in this batch (it depends on another request of the batch): it goes into the next one. */
  | { kind: 'deferred' };

export interface GroupCommitOptions<R> {
  /** Most requests in one batch. */
  maxCount: number;
  /** Most bytes (as counted by `sizeOf`) in one batch; a single larger request still goes alone. */
  maxBytes: number;
  sizeOf(request: R): number;
  /** Batches committing at the same time (1 = the classic leader/followers). */
  maxInFlight: number;
  /**
   * When a batch's requests all fail with an error for which this is true (the database is
   * unreachable), the requests queued behind it fail with the same error at once instead of each
   * waiting out its own connect timeout in turn: requests during an outage answer within one bound.
   */
  failsQueue?(error: unknown): boolean;
}

interface Entry<R, O> {
  request: R;
  size: number;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Group commit: requests that arrive while a batch is committing wait and are committed together
 * as the next batch (one transaction, one flush). There is no timer: a request that finds a free
 * commit slot starts at once, so a lone request is never delayed; only requests that would have
 * queued behind a running commit anyway are combined.
 *
 * `commitBatch` answers each request separately (one request's rejection never fails the others).
 * If it throws, the batch is split in halves and each half committed on its own, down to single
 * requests, so an innocent request still commits and only the culprit gets the error.
 * `commitBatch` must decide at least one request of a batch (progress).
 */
export class GroupCommit<R, O> {
  private readonly queue: Entry<R, O>[] = [];
  private inFlight = 0;

  constructor(
    private readonly commitBatch: (batch: readonly R[]) => Promise<GroupOutcome<O>[]>,
    private readonly options: GroupCommitOptions<R>,
  ) {}

  submit(request: R): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ request, size: this.options.sizeOf(request), resolve, reject });
      this.pump();
    });
  }

  /** Requests waiting for a commit slot (for tests and metrics). */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The longest prefix of the queue within the bounds (at least one request). */
  private take(): Entry<R, O>[] {
    let count = 0;
    let bytes = 0;
    for (const entry of this.queue) {
      if (count > 0 && (count >= this.options.maxCount || bytes + entry.size > this.options.maxBytes)) break;
      count++;
      bytes += entry.size;
    }
    return this.queue.splice(0, count);
  }

  private async run(batch: Entry<R, O>[]): Promise<void> {
    let outcomes: GroupOutcome<O>[];
    try {
      outcomes = await this.commitBatch(batch.map((entry) => entry.request));
      if (outcomes.length !== batch.length || outcomes.every((outcome) => outcome.kind === 'deferred')) {
        throw new Error('group commit: a batch must answer every request and decide at least one');
      }
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.run(batch.slice(0, half));
      await this.run(batch.slice(half));
      return;
    }
    const first = outcomes[0];
    if (
      first?.kind === 'failed' &&
      this.options.failsQueue?.(first.error) &&
      outcomes.every((outcome) => outcome.kind === 'failed')
    ) {
      for (const entry of this.queue.splice(0)) entry.reject(first.error);
    }
    const deferred: Entry<R, O>[] = [];
    outcomes.forEach((outcome, i) => {
      const entry = batch[i]!;
      if (outcome.kind === 'done') entry.resolve(outcome.value);
      else if (outcome.kind === 'failed') entry.reject(outcome.error);
      else deferred.push(entry);
    });
    // Ahead of newer arrivals, in their original order.
    this.queue.unshift(...deferred);
  }
}

/** Bounds of one database write batch (`databaseGroupCommit`). */
export interface WriteBatchLimits {
  /** Most requests in one batch. */
  maxCount: number;
  /** Most bytes (as the writer counts them) in one batch. */
  maxBytes: number;
  /** Batches committing at the same time (1: a request waits only while one batch commits). */
  maxInFlight: number;
}

/**
 * Enough requests that one flush serves a whole wave of concurrent writers, few enough bytes that
 * one statement or transaction stays short; one batch in flight.
 */
export const DEFAULT_WRITE_BATCH_LIMITS: WriteBatchLimits = {
  maxCount: 256,
  maxBytes: 4 * 1024 * 1024,
  maxInFlight: 1,
};

/**
 * The group commit every database writer of the services uses: `limits`, each request sized by
 * `sizeOf`, and a batch that found the database unavailable fails the requests queued behind it
 * at once (an outage answers within one bound instead of one connect timeout per request).
 */
export function databaseGroupCommit<R, O>(
  commit: (batch: readonly R[]) => Promise<GroupOutcome<O>[]>,
  sizeOf: (request: R) => number,
  limits: WriteBatchLimits = DEFAULT_WRITE_BATCH_LIMITS,
): GroupCommit<R, O> {
  return new GroupCommit(commit, {
    ...limits,
    sizeOf,
    failsQueue: (error) => isAppError(error) && error.kind === 'unavailable',
  });
}
