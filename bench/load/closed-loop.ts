import { createHistogram } from 'node:perf_hooks';
import type { LoadResult } from '../lib/load-result.js';

export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** One operation by worker `worker`; resolves how many units (e.g. events) it moved. */
  op: (worker: number) => Promise<number>;
}

/**
 * `concurrency` workers each run `op` back to back (closed loop) through a warm-up, then for
 * `durationMs`; only operations that start inside the measured window count.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const histogram = createHistogram();
  let ops = 0;
  let units = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;

  const worker = async (index: number) => {
    for (;;) {
      const begin = performance.now();
      if (begin >= measureUntil) return;
      const measured = begin >= measureFrom;
      try {
        const moved = await options.op(index);
        if (measured) {
          histogram.record(Math.max(1, Math.round((performance.now() - begin) * 1e6)));
          ops++;
          units += moved;
        }
      } catch (error) {
        if (measured) errors++;
        if (errorSamples.length < 3)
          errorSamples.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  const elapsedSec = (Math.max(performance.now(), measureUntil) - measureFrom) / 1000;
  return {
    ops,
    units,
    elapsedSec,
    errors,
    p50Ms: ops > 0 ? histogram.percentile(50) / 1e6 : undefined,
    p99Ms: ops > 0 ? histogram.percentile(99) / 1e6 : undefined,
    errorSamples,
  };
}
