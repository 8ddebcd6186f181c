import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureEmbeddedPostgres } from '@k1s0/platform';
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
  stop(): Promise<void>;
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
export async function startBenchPostgres(): Promise<BenchPostgres> {
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
    embedded = await ensureEmbeddedPostgres({ dataDir, port, database: 'k1s0_bench' });
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
    async stop() {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
