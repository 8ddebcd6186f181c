import type { BenchPostgres } from '../lib/bench-postgres.js';
import type { LoadResult } from '../lib/load-result.js';
import type { Target } from '../lib/report.js';
import type { ServerProcess } from '../lib/server-process.js';
import type { BenchSettings } from '../lib/settings.js';

export interface RunningService {
  process: ServerProcess;
  restUrl: string;
  grpcUrl: string;
}

export interface BenchContext {
  settings: BenchSettings;
  /** Temp directory of this run (logs, composed wrk scripts). */
  workDir: string;
  pg: BenchPostgres;
  /** An RS256 token with sys_admin (⊃ every role) from the bench issuer. */
  token: string;
  services: { config?: RunningService; events?: RunningService };
  log(line: string): void;
  /** Runs `make` once per key (shared set-up such as seeding) and returns its result. */
  once<T>(key: string, make: () => Promise<T>): Promise<T>;
}

export interface WorkloadOutcome {
  result: LoadResult;
  /** Peak RSS of a process the workload started itself (services are measured by the runner). */
  peakRssMiB?: number;
}

export interface Workload {
  id: string;
  title: string;
  /** Throughput unit, e.g. req/s, tx/s, events/s. */
  unit: string;
  target: Target;
  isBaseline?: boolean;
  /** Id of the workload whose throughput this one is compared with. */
  baseline?: string;
  /**
   * A-B-A even though `baseline` is a target row, not a raw baseline: it is measured again right
   * before and right after this one and the ratio uses their mean (see bracketBaseline in run.ts).
   */
  bracket?: boolean;
  /** Id of the peer-product workload (run earlier) this one is compared with (`target.minPeerRatio`). */
  peer?: string;
  /** The service under load: its peak RSS is reported, and the workload is skipped without it. */
  service?: keyof BenchContext['services'];
  /** `baselinePerSec`: the throughput of `baseline` measured earlier in this run, if it ran. */
  run(ctx: BenchContext, baselinePerSec?: number): Promise<WorkloadOutcome>;
}

export function timing(ctx: BenchContext): { warmupMs: number; durationMs: number } {
  return { warmupMs: ctx.settings.warmupSec * 1000, durationMs: ctx.settings.durationSec * 1000 };
}

export function serviceOf(ctx: BenchContext, name: keyof BenchContext['services']): RunningService {
  const service = ctx.services[name];
  if (!service) throw new Error(`${name} is not running`);
  return service;
}
