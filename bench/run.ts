/**
 * `pnpm bench`: starts a durable embedded PostgreSQL, a stand-in JWKS issuer and both services
 * (APP_ENV=prod, RS256 tokens) pinned to CPU 0, drives each workload from CPU 1 (wrk for REST, a
 * Node Connect client for gRPC, postgres.js for the raw baselines) and writes the table to
 * bench/results/<timestamp>.md and stdout. Knobs: BENCH_DURATION, BENCH_WARMUP, BENCH_ONLY,
 * BENCH_PROFILE, BENCH_CATCHUP_EVENTS, BENCH_RUNTIME (see bench/lib/settings.ts and the README).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { buildImageTree, buildWorkspace, imageNodeArgs } from '../scripts/build-image-tree.js';
import { type BenchPostgres, startBenchPostgres } from './lib/bench-postgres.js';
import { assertPlacementPossible, cpuBusyMeter, LOAD_CPU, pinProcess } from './lib/cpu.js';
import { foreignCpuMeter, treeCpuMeter } from './lib/foreign-cpu.js';
import { freePort } from './lib/free-port.js';
import { type BenchIssuer, startBenchIssuer } from './lib/jwks-issuer.js';
import { unitsPerSec } from './lib/load-result.js';
import { summarizeProfile } from './lib/profile-summary.js';
import { benchDir, repoRoot } from './lib/repo-root.js';
import { type Row, renderTable } from './lib/report.js';
import { describeRun } from './lib/run-info.js';
import { startServerProcess } from './lib/server-process.js';
import { readSettings } from './lib/settings.js';
import { ensureWrk } from './lib/wrk.js';
import { configWorkloads } from './workloads/config-server.js';
import { eventWorkloads } from './workloads/event-store.js';
import type { BenchContext, RunningService, Workload } from './workloads/workload.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Issue 13: every service stays under this peak RSS in every row that loads it. */
const SERVICE_PEAK_RSS_LIMIT_MIB = 200;

const SERVICES = [
  { key: 'config', name: 'config-server', entry: 'apps/config-server/src/main.ts' },
  { key: 'events', name: 'event-store', entry: 'apps/event-store/src/main.ts' },
] as const;

/**
 * The app's packaged config with the stream limits (issue 10) raised for the fan-out rows: one bench
 * token opens 10,000 WatchConfig streams, 500 per HTTP/2 connection. Everything else as packaged.
 */
const BENCH_STREAM_LIMITS = {
  max_concurrent_streams: 1_000,
  max_streams_per_caller: 20_000,
  max_streams_total: 20_000,
};

async function benchConfigDir(app: string, workDir: string): Promise<string> {
  const source = join(repoRoot, 'apps', app, 'config');
  const dir = join(workDir, `${app}-config`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.yaml'), await readFile(join(source, 'config.yaml'), 'utf8'));
  const prod = (parseYaml(await readFile(join(source, 'config.prod.yaml'), 'utf8')) ?? {}) as {
    grpc?: Record<string, unknown>;
  };
  const merged = { ...prod, grpc: { ...prod.grpc, ...BENCH_STREAM_LIMITS } };
  await writeFile(join(dir, 'config.prod.yaml'), stringifyYaml(merged));
  return dir;
}

/** BENCH_ONLY plus the baselines the selected workloads are compared with. */
function selectWorkloads(all: Workload[], only: Set<string>): Workload[] {
  if (only.size === 0) return all;
  const unknown = [...only].filter((id) => !all.some((w) => w.id === id));
  if (unknown.length)
    throw new Error(
      `BENCH_ONLY: unknown workload(s) ${unknown.join(', ')}; known: ${all.map((w) => w.id).join(', ')}`,
    );
  const wanted = new Set(only);
  // Baselines of baselines too (config-get-paced → config-get → baseline-fastify).
  for (let size = 0; size !== wanted.size; ) {
    size = wanted.size;
    for (const w of all) {
      if (wanted.has(w.id) && w.baseline) wanted.add(w.baseline);
      if (wanted.has(w.id) && w.peer) wanted.add(w.peer);
    }
  }
  return all.filter((w) => wanted.has(w.id));
}

async function startServices(
  pg: BenchPostgres,
  issuer: BenchIssuer,
  workDir: string,
  cpuProfileDir: string | undefined,
): Promise<{ services: BenchContext['services']; missing: Map<string, string> }> {
  const services: BenchContext['services'] = {};
  const missing = new Map<string, string>();
  const compiled = readSettings().runtime === 'compiled';
  const imageArgs = imageNodeArgs();
  if (compiled) {
    log('bench: building the production folders (BENCH_RUNTIME=compiled) …');
    buildWorkspace();
  }
  for (const spec of SERVICES) {
    const tree = join(workDir, `${spec.name}-image`);
    if (compiled) buildImageTree(spec.name, tree, { build: false });
    if (!existsSync(join(repoRoot, spec.entry))) {
      missing.set(spec.key, `${spec.entry} does not exist yet`);
      continue;
    }
    const [port, grpcPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CONFIG_DIR: await benchConfigDir(spec.name, workDir),
      APP_ENV: 'prod',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: pg.url,
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      AUTH_JWKS_URL: issuer.jwksUrl,
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
    };
    delete env.AUTH_DEV_SECRET;
    delete env.KAFKA_BROKERS;
    try {
      log(`bench: starting ${spec.name} …`);
      const process_ = await startServerProcess({
        name: spec.name,
        ...(compiled
          ? { entry: join(tree, 'dist', 'main.js'), cwd: tree, nodeArgs: imageArgs }
          : { entry: spec.entry }),
        env,
        readyUrl: `http://127.0.0.1:${port}/readyz`,
        logFile: join(workDir, `${spec.name}.log`),
        ...(cpuProfileDir ? { cpuProfileDir } : {}),
      });
      services[spec.key] = {
        process: process_,
        restUrl: `http://127.0.0.1:${port}`,
        grpcUrl: `http://127.0.0.1:${grpcPort}`,
      } satisfies RunningService;
    } catch (error) {
      missing.set(spec.key, error instanceof Error ? error.message.split('\n')[0]! : String(error));
      log(`bench: ${spec.name} did not start: ${String(error)}`);
    }
  }
  return { services, missing };
}

async function runWorkload(
  ctx: BenchContext,
  workload: Workload,
  missing: Map<string, string>,
  rows: Row[],
): Promise<Row> {
  const row: Row = {
    id: workload.id,
    title: workload.title,
    unit: workload.unit,
    isBaseline: workload.isBaseline ?? false,
    target: workload.service
      ? { ...workload.target, maxPeakRssMiB: SERVICE_PEAK_RSS_LIMIT_MIB }
      : workload.target,
  };
  const baseline = workload.baseline ? rows.find((r) => r.id === workload.baseline) : undefined;
  if (baseline?.result) row.baseline = { title: baseline.title, perSec: unitsPerSec(baseline.result) };
  const peer = workload.peer ? rows.find((r) => r.id === workload.peer) : undefined;
  if (peer?.result) row.peer = { title: peer.title, perSec: unitsPerSec(peer.result) };
  const service = workload.service ? ctx.services[workload.service] : undefined;
  if (workload.service && !service) {
    row.failure = missing.get(workload.service) ?? 'service not running';
    return row;
  }
  log(`bench: ${workload.id} — ${workload.title}`);
  await service?.process.peakRss.reset();
  const meter = await cpuBusyMeter();
  const foreign = await foreignCpuMeter();
  const split = await treeCpuMeter({
    postgres: ctx.pg.postmasterPid,
    ...(service ? { service: service.process.pid } : {}),
  });
  if (ctx.settings.profile) await ctx.pg.resetStatementStats();
  try {
    const outcome = await workload.run(ctx, row.baseline?.perSec);
    if (ctx.settings.profile) row.statements = await ctx.pg.topStatements(8);
    row.cpuBusy = { ...(await meter.stop()), others: await foreign.stop() };
    row.cpuSplit = await split.stop();
    row.result = outcome.result;
    row.peakRssMiB = outcome.peakRssMiB ?? (await service?.process.peakRss.readMiB());
    if (outcome.result.errorSamples?.length) log(`  errors: ${outcome.result.errorSamples.join(' | ')}`);
    log(
      `  ${unitsPerSec(outcome.result).toFixed(0)} ${workload.unit}, p99 ${outcome.result.p99Ms?.toFixed(2) ?? '—'} ms, errors ${outcome.result.errors}`,
    );
  } catch (error) {
    row.failure = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    log(`  failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  return row;
}

/** One more run of a baseline workload, for its throughput only; undefined if it failed. */
async function remeasure(ctx: BenchContext, baseline: Workload): Promise<number | undefined> {
  try {
    log(`bench: ${baseline.id} again (bracketing)`);
    return unitsPerSec((await baseline.run(ctx)).result);
  } catch (error) {
    log(`  bracketing run of ${baseline.id} failed: ${String(error)}`);
    return undefined;
  }
}

/**
 * A-B-A: the ratio of a workload to its raw/bare baseline (or to a target row, with `bracket`) uses
 * the mean of the baseline measured right before and right after it, so a drift of this shared
 * machine between the two (the bare route has swung from 8k to 16k req/s across runs) does not
 * tilt the ratio.
 */
async function bracketBaseline(
  ctx: BenchContext,
  workload: Workload,
  row: Row,
  workloads: Workload[],
  measuredBefore: number | undefined,
): Promise<void> {
  const baseline = workloads.find((w) => w.id === workload.baseline);
  if (workload.isBaseline || !baseline || !row.result || !row.baseline) return;
  if (!baseline.isBaseline && !workload.bracket) return;
  const before = measuredBefore ?? (await remeasure(ctx, baseline));
  const after = await remeasure(ctx, baseline);
  if (before === undefined || after === undefined) return;
  row.baseline = { ...row.baseline, perSec: (before + after) / 2, before, after };
}

/**
 * The "A" before a bracketed workload: the row right before it when that is its baseline, else
 * (a `bracket` workload whose baseline ran rows earlier) a run of the baseline now.
 */
async function baselineRightBefore(
  ctx: BenchContext,
  workload: Workload,
  workloads: Workload[],
  previous: Row | undefined,
): Promise<number | undefined> {
  if (previous !== undefined && previous.id === workload.baseline && previous.result) {
    return unitsPerSec(previous.result);
  }
  const baseline = workloads.find((w) => w.id === workload.baseline);
  if (!workload.bracket || baseline === undefined) return undefined;
  return remeasure(ctx, baseline);
}

/** The wrk-is-not-the-bottleneck check: the bare route must go well beyond the service. */
function generatorCheck(rows: Row[]): string | undefined {
  const bare = rows.find((r) => r.id === 'baseline-fastify')?.result;
  const service = rows.find((r) => r.id === 'config-get')?.result;
  if (!bare || !service) return undefined;
  const factor = unitsPerSec(bare) / unitsPerSec(service);
  const verdict =
    factor >= 1.5
      ? 'OK — the service, not wrk, is the limit'
      : 'WARNING — wrk may be limiting the service figure';
  return `Generator check: wrk on CPU ${LOAD_CPU} drove the bare Fastify route at ${unitsPerSec(bare).toFixed(0)} req/s, ${factor.toFixed(2)}× the config-server's ${unitsPerSec(service).toFixed(0)} req/s with the same connections: ${verdict}.`;
}

async function main(): Promise<void> {
  const settings = readSettings();
  await assertPlacementPossible();
  const wrk = await ensureWrk(log);
  await pinProcess(process.pid, LOAD_CPU);
  const workloads = selectWorkloads([...configWorkloads, ...eventWorkloads], settings.only);
  const startedAt = new Date();
  const loadAvg = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const stamp = startedAt
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
  const workDir = await mkdtemp(join(tmpdir(), 'k1s0-bench-'));
  const cpuProfileDir = settings.profile ? join(benchDir, 'results/profiles', stamp) : undefined;
  if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse())
      await fn().catch((e: unknown) => log(`bench: cleanup: ${String(e)}`));
    cleanups.length = 0;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().then(() => process.exit(130)));
  }

  const rows: Row[] = [];
  let pgInfo: BenchPostgres | undefined;
  try {
    log('bench: starting embedded PostgreSQL (durable settings) on CPU 0 …');
    const pg = await startBenchPostgres({ statementStats: settings.profile });
    pgInfo = pg;
    cleanups.push(() => pg.stop());
    const issuer = await startBenchIssuer();
    cleanups.push(() => issuer.close());
    const { services, missing } = await startServices(pg, issuer, workDir, cpuProfileDir);
    for (const s of Object.values(services)) cleanups.push(() => s.process.stop());
    const memo = new Map<string, Promise<unknown>>();
    const ctx: BenchContext = {
      settings,
      workDir,
      pg,
      token: issuer.mint({ roles: ['sys_admin'], email: 'bench@example.com' }),
      services,
      log,
      once<T>(key: string, make: () => Promise<T>): Promise<T> {
        if (!memo.has(key)) memo.set(key, make());
        return memo.get(key) as Promise<T>;
      },
    };
    for (const workload of workloads) {
      const before = await baselineRightBefore(ctx, workload, workloads, rows.at(-1));
      const row = await runWorkload(ctx, workload, missing, rows);
      rows.push(row);
      await bracketBaseline(ctx, workload, row, workloads, before);
    }
  } finally {
    await cleanup();
  }

  const info = await describeRun({ startedAt, settings, pg: pgInfo, wrk, loadAvg });
  const check = generatorCheck(rows);
  const notes = rows
    .filter((r) => r.result?.note || r.result?.errorSamples?.length)
    .map(
      (r) => `- ${r.id}: ${[r.result?.note, ...(r.result?.errorSamples ?? [])].filter(Boolean).join('; ')}`,
    );
  let profiles = rows
    .filter((r) => r.statements)
    .map((r) => `\n### PostgreSQL time during ${r.id}\n\n${r.statements}\n`)
    .join('');
  if (cpuProfileDir) {
    const files = (await readdir(cpuProfileDir)).filter((f) => f.endsWith('.cpuprofile'));
    for (const file of files)
      profiles += `\n### CPU profile: ${file}\n\n${await summarizeProfile(join(cpuProfileDir, file), 25)}\n`;
  }
  const report = [
    `# k1s0 bench — ${startedAt.toISOString()}`,
    '',
    info,
    '',
    renderTable(rows),
    '',
    ...(check ? [check, ''] : []),
    ...(notes.length ? ['Notes:', ...notes, ''] : []),
    profiles,
  ].join('\n');
  const file = join(benchDir, 'results', `${stamp}.md`);
  await mkdir(join(benchDir, 'results'), { recursive: true });
  await writeFile(file, `${report.trimEnd()}\n`);
  process.stdout.write(`${report.trimEnd()}\n\n`);
  log(`bench: written to ${file} (service logs in ${workDir})`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
