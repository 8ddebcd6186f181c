import type { LoadResult } from '../lib/load-result.js';
import { runWrk } from '../lib/wrk.js';
import type { BenchContext } from './workload.js';

export interface HttpLoad {
  url: string;
  connections: number;
  threads: number;
  script?: string;
  /** Script args; a function so warm-up and measured runs can differ (e.g. fresh key prefixes). */
  scriptArgs?: (phase: 'warmup' | 'measured') => string[];
  /** One request made with fetch before the load, to fail fast with the service's answer. */
  probe: { method: string; url: string; body?: string; expectStatus: number[] };
  /** Request headers; default: the run's bearer token (peers such as etcd get none). */
  headers?: Record<string, string>;
}

/** Probes once, warms up with wrk, then measures with wrk (all on the load CPU). */
export async function measureHttp(ctx: BenchContext, load: HttpLoad): Promise<LoadResult> {
  const headers = load.headers ?? { authorization: `Bearer ${ctx.token}` };
  const probe = await fetch(load.probe.url, {
    method: load.probe.method,
    headers: { ...headers, ...(load.probe.body ? { 'content-type': 'application/json' } : {}) },
    body: load.probe.body,
  });
  if (!load.probe.expectStatus.includes(probe.status)) {
    throw new Error(
      `probe ${load.probe.method} ${load.probe.url} answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`,
    );
  }
  const common = {
    url: load.url,
    connections: load.connections,
    threads: load.threads,
    headers,
    workDir: ctx.workDir,
    ...(load.script ? { script: load.script } : {}),
  };
  await runWrk({
    ...common,
    durationSec: Math.max(1, Math.round(ctx.settings.warmupSec)),
    scriptArgs: load.scriptArgs?.('warmup') ?? [],
  });
  return runWrk({
    ...common,
    durationSec: Math.max(1, Math.round(ctx.settings.durationSec)),
    scriptArgs: load.scriptArgs?.('measured') ?? [],
  });
}
