import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedPasswordFile, ensureEmbeddedPostgres } from '@k1s0/platform';
import postgres from 'postgres';
import { affinityOf, LOAD_CPU, pinProcess, SERVER_CPU } from './cpu.js';
import { freePort } from './free-port.js';

export interface BenchPostgres {
  url: string;
  dataDir: string;
  /** fsync, synchronous_commit, wal_sync_method, shared_buffers, … as the server reports them. */
  settings: Record<string, string>;
  /** CPUs the postmaster may run on (its backends inherit that). */
  affinity: string;
  postmasterPid: number;
  /** With `statementStats`: clears pg_stat_statements (call before a workload). */
  resetStatementStats(): Promise<void>;
  /** With `statementStats`: the statements that took the most server time since the last reset. */
  topStatements(limit: number): Promise<string>;
  stop(): Promise<void>;
}

export interface BenchPostgresOptions {
  /** Load pg_stat_statements so each workload can report where PostgreSQL spent its time. */
  statementStats?: boolean;
}

const REPORTED_SETTINGS = [
  'server_version',
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_sync_method',
  'shared_buffers',
  'max_connections',
];

/** The mount type holding `dir` (a tmpfs would make fsync free and the write numbers meaningless). */
async function filesystemOf(dir: string): Promise<string> {
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length > 2 && dir.startsWith(fields[1]!));
  mounts.sort((a, b) => b[1]!.length - a[1]!.length);
  return mounts[0]?.[2] ?? 'unknown';
}

/**
 * A throw-away embedded PostgreSQL (default, durable settings: fsync and synchronous_commit on)
 * in a fresh temp directory on a free port, pinned to the server CPU: this process pins itself
 * there while the postmaster is forked, so the postmaster and every backend inherit CPU 0.
 */
export async function startBenchPostgres(options: BenchPostgresOptions = {}): Promise<BenchPostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), 'k1s0-bench-pg-'));
  const fs = await filesystemOf(dataDir);
  if (fs === 'tmpfs' || fs === 'ramfs') {
    throw new Error(
      `bench: ${dataDir} is on ${fs}; fsync would cost nothing. Set TMPDIR to a directory on disk.`,
    );
  }
  const port = await freePort();
  await pinProcess(process.pid, SERVER_CPU);
  let embedded: Awaited<ReturnType<typeof ensureEmbeddedPostgres>>;
  try {
    embedded = await ensureEmbeddedPostgres({
      dataDir,
      port,
      database: 'k1s0_bench',
      ...(options.statementStats
        ? { settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } }
        : {}),
    });
  } finally {
    await pinProcess(process.pid, LOAD_CPU);
  }
  const postmasterPid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const sql = postgres(embedded.url, { max: 1, onnotice: () => {} });
  const settings: Record<string, string> = {};
  try {
    for (const name of REPORTED_SETTINGS) {
      const [row] = await sql`select current_setting(${name}) as value`;
      settings[name] = String(row?.value);
    }
  } finally {
    await sql.end();
  }
  settings.filesystem = fs;
  if (settings.fsync !== 'on' || settings.synchronous_commit !== 'on') {
    throw new Error(
      `bench: PostgreSQL must run durable (fsync=${settings.fsync}, synchronous_commit=${settings.synchronous_commit})`,
    );
  }
  return {
    url: embedded.url,
    dataDir,
    settings,
    affinity: await affinityOf(postmasterPid),
    postmasterPid,
    resetStatementStats: () =>
      withStats(embedded.url, options, async (sql) => void (await sql`select pg_stat_statements_reset()`)),
    topStatements: (limit) => withStats(embedded.url, options, (sql) => describeTopStatements(sql, limit)),
    async stop() {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(embeddedPasswordFile(dataDir), { force: true });
    },
  };
}

async function withStats<T>(
  url: string,
  options: BenchPostgresOptions,
  use: (sql: postgres.Sql) => Promise<T>,
): Promise<T> {
  if (!options.statementStats) throw new Error('bench: PostgreSQL was started without statementStats');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`create extension if not exists pg_stat_statements`;
    return await use(sql);
  } finally {
    await sql.end();
  }
}

/** A markdown table of the top statements by total execution + planning time. */
async function describeTopStatements(sql: postgres.Sql, limit: number): Promise<string> {
  const rows = await sql<
    { calls: string; total_ms: number; mean_ms: number; plan_ms: number; rows: string; query: string }[]
  >`
    select calls::text, (total_exec_time + total_plan_time)::float8 as total_ms,
      (total_exec_time / nullif(calls, 0))::float8 as mean_ms, total_plan_time::float8 as plan_ms,
      rows::text, query
    from pg_stat_statements
    where query not ilike '%pg_stat_statements%'
    order by total_exec_time + total_plan_time desc
    limit ${limit}`;
  const lines = [
    '| calls | total ms | mean exec ms | plan ms | rows | statement |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const query = r.query.replace(/\s+/g, ' ').replaceAll('|', '\\|').slice(0, 160);
    lines.push(
      `| ${r.calls} | ${r.total_ms.toFixed(0)} | ${r.mean_ms.toFixed(3)} | ${r.plan_ms.toFixed(0)} | ${r.rows} | \`${query}\` |`,
    );
  }
  return lines.join('\n');
}
