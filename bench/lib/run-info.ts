import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import { imageNodeArgs } from '../../scripts/build-image-tree.js';
import type { BenchPostgres } from './bench-postgres.js';
import { LOAD_CPU, SERVER_CPU } from './cpu.js';
import { repoRoot } from './repo-root.js';
import type { BenchSettings } from './settings.js';

const run = promisify(execFile);
/** Read when the bench starts, before the services are: the flags this run's services get. */
const serviceNodeFlags = imageNodeArgs().join(' ');

async function output(command: string, args: string[]): Promise<string> {
  return run(command, args, { cwd: repoRoot }).then(
    (r) => `${r.stdout}${r.stderr}`.trim(),
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`.trim(),
  );
}

/** The header of a result file: what was measured, on what, and how. */
export async function describeRun(options: {
  startedAt: Date;
  settings: BenchSettings;
  pg: BenchPostgres | undefined;
  wrk: string;
  /** /proc/loadavg when the run started. */
  loadAvg: string;
}): Promise<string> {
  const commit = await output('git', ['log', '-1', '--format=%H %s']);
  const dirty = (await output('git', ['status', '--porcelain', '--', 'apps', 'packages', 'bench']))
    .split('\n')
    .filter(Boolean).length;
  const wrkVersion = (await output(options.wrk, ['--version'])).split('\n')[0] ?? '?';
  const pg = options.pg;
  const s = options.settings;
  return [
    `- commit: \`${commit}\`${dirty ? ` (+ ${dirty} uncommitted path(s) under apps/, packages/, bench/)` : ''}`,
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${wrkVersion.replace(/ \[.*$/, '')}; load average at start: ${options.loadAvg}`,
    `- placement: services, baseline servers and PostgreSQL on CPU ${SERVER_CPU}` +
      (pg ? ` (postmaster affinity: ${pg.affinity})` : '') +
      `; wrk and the Node load processes on CPU ${LOAD_CPU}`,
    pg
      ? `- PostgreSQL ${pg.settings.server_version} (embedded, temp dir on ${pg.settings.filesystem}): fsync=${pg.settings.fsync}, synchronous_commit=${pg.settings.synchronous_commit}, full_page_writes=${pg.settings.full_page_writes}, wal_sync_method=${pg.settings.wal_sync_method}, shared_buffers=${pg.settings.shared_buffers}, max_connections=${pg.settings.max_connections}`
      : '- PostgreSQL: did not start',
    `- services: ${s.runtime === 'compiled' ? `compiled, \`node ${serviceNodeFlags} dist/main.js\` from each production folder (the image tree; flags from the Dockerfile CMD)` : 'from source through tsx (BENCH_RUNTIME=source)'}`,
    '- services: APP_ENV=prod, NODE_ENV=production, LOG_LEVEL=warn, no Kafka (outbox rows accumulate), tokens RS256 from a local JWKS (iss and aud checked)',
    '- "others" = CPU used meanwhile by processes the bench did not start (% of one CPU): on a shared machine, read the numbers with it',
    `- each workload: ${s.warmupSec} s warm-up, then ${s.durationSec} s measured; latencies are per request (wrk: no coordinated-omission correction)`,
  ].join('\n');
}
