/** What every load generator (wrk or a Node client) reports for one measured run. */
export interface LoadResult {
  /** Completed operations (requests, transactions, pages, passes) in the measured window. */
  ops: number;
  /** Units the throughput is counted in (events for the event workloads; = ops otherwise). */
  units: number;
  elapsedSec: number;
  errors: number;
  /** Per-operation latency percentiles; undefined when per-op latency means nothing (catch-up). */
  p50Ms?: number;
  p99Ms?: number;
  /** First error messages seen, for the log. */
  errorSamples?: string[];
  /** Anything the table should show beside the numbers. */
  note?: string;
}

export function unitsPerSec(result: LoadResult): number {
  return result.elapsedSec > 0 ? result.units / result.elapsedSec : 0;
}
