/** Run-wide knobs, all from the environment so `pnpm bench` needs no arguments. */
export interface BenchSettings {
  /** Measured seconds per workload (BENCH_DURATION, default 10). */
  durationSec: number;
  /** Unmeasured seconds before each workload (BENCH_WARMUP, default 3). */
  warmupSec: number;
  /** Workload ids to run (BENCH_ONLY, comma-separated); empty = all. */
  only: Set<string>;
  /** Run the services under `node --cpu-prof`, profiles in bench/results/profiles (BENCH_PROFILE=1). */
  profile: boolean;
  /** Events seeded for the global-log catch-up (BENCH_CATCHUP_EVENTS, default 200000). */
  catchUpEvents: number;
  /**
   * BENCH_RUNTIME: `compiled` (default) runs each service as the image does, `node dist/main.js`
   * from its production folder (scripts/build-image-tree.ts); `source` runs src/main.ts through tsx.
   */
  runtime: 'compiled' | 'source';
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function runtimeOf(raw: string | undefined): BenchSettings['runtime'] {
  if (raw === undefined || raw === '' || raw === 'compiled') return 'compiled';
  if (raw === 'source') return 'source';
  throw new Error(`BENCH_RUNTIME must be compiled or source, got "${raw}"`);
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    durationSec: positiveNumber(env, 'BENCH_DURATION', 10),
    warmupSec: positiveNumber(env, 'BENCH_WARMUP', 3),
    only: new Set(
      (env.BENCH_ONLY ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    profile: env.BENCH_PROFILE === '1',
    catchUpEvents: Math.round(positiveNumber(env, 'BENCH_CATCHUP_EVENTS', 200_000)),
    runtime: runtimeOf(env.BENCH_RUNTIME),
  };
}
