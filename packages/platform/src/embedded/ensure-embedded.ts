import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { isDatabaseUnavailable, sqlState } from '../db/errors.js';
import { embeddedUrl, startCluster } from './embedded-cluster.js';
import { acquireStartLock } from './start-lock.js';

export interface EmbeddedPostgresOptions {
  /** Cluster directory, e.g. `<repo>/.data/postgres`; created and initialised when empty. */
  dataDir: string;
  port: number;
  /** Database the caller uses; created when missing. */
  database: string;
  /** Server output (dropped by default). */
  onLog?: (line: string) => void;
  /** Extra `postgres -c name=value` settings when this call starts the server (ignored on reuse). */
  settings?: Record<string, string>;
}

export interface EmbeddedPostgres {
  /** Connection URL for `database`. */
  url: string;
  /** True when this call started the server; false when it reused one already running. */
  owned: boolean;
  /** Stops the server if this call started it; a no-op otherwise. */
  stop(): Promise<void>;
}

type ServerState = 'absent' | 'starting' | 'ready';

/** What listens on 127.0.0.1:port; throws if it is a server that rejects the embedded credentials. */
async function probe(port: number): Promise<ServerState> {
  const sql = postgres(embeddedUrl(port, 'postgres'), { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return 'ready';
  } catch (error) {
    if (sqlState(error) === '57P03') return 'starting';
    if (isDatabaseUnavailable(error)) return 'absent';
    throw new Error(`port ${port} is taken by a server that is not this embedded PostgreSQL`, {
      cause: error,
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Waits out a server that is still starting; resolves whether one is ready. */
async function serverReady(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const state = await probe(port);
    if (state !== 'starting') return state === 'ready';
    await sleep(100);
  }
  throw new Error(`PostgreSQL on port ${port} did not finish starting`);
}

async function ensureDatabaseExists(port: number, database: string): Promise<void> {
  const sql = postgres(embeddedUrl(port, 'postgres'), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [found] = await sql`select 1 from pg_database where datname = ${database}`;
    if (found) return;
    await sql.unsafe(`create database "${database.replaceAll('"', '""')}"`).catch((error: unknown) => {
      // 42P04 duplicate_database: the other service created it a moment ago.
      if (sqlState(error) !== '42P04') throw error;
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Makes a local PostgreSQL available on 127.0.0.1:port: reuses one that already answers
 * there (e.g. started by the other service), else initialises `dataDir` if needed and starts
 * the embedded server. Two processes starting at once serialize on `<dataDir>.lock`; the
 * second one then reuses the first one's server.
 */
export async function ensureEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { port, database } = options;
  const dataDir = path.resolve(options.dataDir);
  const url = embeddedUrl(port, database);
  const reuse = async (): Promise<EmbeddedPostgres> => {
    await ensureDatabaseExists(port, database);
    return { url, owned: false, stop: async () => {} };
  };

  if (await serverReady(port)) return reuse();
  await mkdir(path.dirname(dataDir), { recursive: true });
  const lock = await acquireStartLock(`${dataDir}.lock`, () => serverReady(port));
  if (!lock) return reuse();
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  try {
    // Another process may have finished starting it between our probe and taking the lock.
    if (await serverReady(port)) return await reuse();
    cluster = await startCluster({ dataDir, port, onLog: options.onLog, settings: options.settings });
  } finally {
    await lock.release();
  }
  try {
    await ensureDatabaseExists(port, database);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { url, owned: true, stop: () => cluster.stop() };
}
