/**
 * Workloads driven by a Node load process (bench/load) rather than wrk: the `run` they share, and the
 * raw-INSERT baselines both services' write paths are compared with.
 */
import { runNodeLoad } from '../lib/node-load.js';
import type { LoadTask } from '../load/tasks.js';
import { type BenchContext, timing, type Workload } from './workload.js';

type TimedTask = Extract<LoadTask, { warmupMs: number }>;
/** A timed task without its timing, which comes from the run's settings. */
type Untimed<T> = T extends unknown ? Omit<T, 'warmupMs' | 'durationMs'> : never;

/**
 * A workload's `run`: `prepare` (e.g. shared seeding, run once per bench), then one timed load task
 * for the configured warm-up and duration.
 */
export function timedNodeLoad(
  task: (ctx: BenchContext) => Untimed<TimedTask>,
  prepare?: (ctx: BenchContext) => Promise<unknown>,
): Workload['run'] {
  return async (ctx) => {
    await prepare?.(ctx);
    return { result: await runNodeLoad({ ...task(ctx), ...timing(ctx) }) };
  };
}

let runNo = 0;

/**
 * A durable INSERT loop straight through postgres.js (16 writers), `rowsPerTx` rows per transaction;
 * each run writes streams of its own (`streamPrefix`-n); `notify` adds a pg_notify to each transaction.
 */
export function rawInsertRun(rowsPerTx: number, streamPrefix: string, notify = false): Workload['run'] {
  return timedNodeLoad((ctx) => ({
    kind: 'raw-insert',
    url: ctx.pg.url,
    writers: 16,
    rowsPerTx,
    streamPrefix: `${streamPrefix}-${++runNo}`,
    notify,
  }));
}
