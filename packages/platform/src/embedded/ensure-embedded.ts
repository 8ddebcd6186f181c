import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { isDatabaseUnavailable, sqlState } from '../db/errors.js';
import { EMBEDDED_USER, embeddedUrl, startCluster } from './embedded-cluster.js';
import { embeddedPasswordFile, LEGACY_EMBEDDED_PASSWORD, readOrCreatePassword } from './password-file.js';
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

/** The cluster this process expects on 127.0.0.1:port, and its credentials. */
interface Target {
  port: number;
  /** Absolute data directory of the cluster this process expects on the port. */
  dataDir: string;
  /** The cluster's password file and the password it holds. */
  passwordFile: string;
  password: string;
}

type Login =
  | { kind: 'ok'; dataDirectory: string }
  | { kind: 'absent' | 'starting' }
  | { kind: 'refused'; error: unknown };

async function login(port: number, password: string): Promise<Login> {
  const sql = postgres(embeddedUrl(port, 'postgres', password), {
    max: 1,
    connect_timeout: 2,
    onnotice: () => {},
  });
  try {
    const [row] = await sql<{ dir: string }[]>`select current_setting('data_directory') as dir`;
    return { kind: 'ok', dataDirectory: row?.dir ?? '' };
  } catch (error) {
    if (sqlState(error) === '57P03') return { kind: 'starting' };
    if (isDatabaseUnavailable(error)) return { kind: 'absent' };
    return { kind: 'refused', error };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function canonical(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir));
}

/** Throws unless the server that let us in serves our data directory (not some other cluster). */
async function assertOurCluster(target: Target, serverDataDirectory: string): Promise<void> {
  if ((await canonical(serverDataDirectory)) === (await canonical(target.dataDir))) return;
  throw new Error(
    `port ${target.port} is in use by another PostgreSQL (data directory ${serverDataDirectory}), ` +
      `not the embedded cluster of ${target.dataDir}; stop that server or choose another port`,
  );
}

/**
 * What listens on 127.0.0.1:port. A server must accept the data folder's password and serve
 * that data folder; a cluster of ours still on the legacy password is moved to the file's
 * password here (the file is always written before this runs, so a crash between the two only
 * means the next start does it again). Anything else on the port is an error, never reused.
 */
async function probe(target: Target): Promise<ServerState> {
  const current = await login(target.port, target.password);
  if (current.kind === 'ok') {
    await assertOurCluster(target, current.dataDirectory);
    return 'ready';
  }
  if (current.kind !== 'refused') return current.kind;
  const legacy = await login(target.port, LEGACY_EMBEDDED_PASSWORD);
  if (legacy.kind === 'ok') {
    await assertOurCluster(target, legacy.dataDirectory);
    await setPassword(target.port, target.password);
    return 'ready';
  }
  throw new Error(
    `port ${target.port} is in use by a PostgreSQL that does not accept the password of the embedded ` +
      `cluster in ${target.dataDir} (kept in ${target.passwordFile}): another server holds the port, ` +
      'or that file no longer matches the cluster; stop the other server or choose another port',
    { cause: current.error },
  );
}

/** Moves a legacy cluster (postgres/password) to `password`; the server stores only its SCRAM hash. */
async function setPassword(port: number, password: string): Promise<void> {
  const sql = postgres(embeddedUrl(port, 'postgres', LEGACY_EMBEDDED_PASSWORD), {
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
  try {
    // Utility statements take no bind parameters; the password is base64url, quoted anyway.
    await sql.unsafe(`alter role ${EMBEDDED_USER} password '${password.replaceAll("'", "''")}'`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Waits out a server that is still starting; resolves whether one is ready. */
async function serverReady(target: Target): Promise<boolean> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const state = await probe(target);
    if (state !== 'starting') return state === 'ready';
    await sleep(100);
  }
  throw new Error(`PostgreSQL on port ${target.port} did not finish starting`);
}

async function ensureDatabaseExists(target: Target, database: string): Promise<void> {
  const sql = postgres(embeddedUrl(target.port, 'postgres', target.password), {
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
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
 * second one then reuses the first one's server. The superuser password is random per data
 * folder, kept owner-only in `<dataDir>.password`; a server on the port that does not accept
 * it, or serves another data directory, is an error rather than silently used.
 */
export async function ensureEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { port, database } = options;
  const dataDir = path.resolve(options.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const passwordFile = embeddedPasswordFile(dataDir);
  const target: Target = { port, dataDir, passwordFile, password: await readOrCreatePassword(passwordFile) };
  const url = embeddedUrl(port, database, target.password);
  const reuse = async (): Promise<EmbeddedPostgres> => {
    await ensureDatabaseExists(target, database);
    return { url, owned: false, stop: async () => {} };
  };

  if (await serverReady(target)) return reuse();
  const lock = await acquireStartLock(`${dataDir}.lock`, () => serverReady(target));
  if (!lock) return reuse();
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  try {
    // Another process may have finished starting it between our probe and taking the lock.
    if (await serverReady(target)) return await reuse();
    cluster = await startCluster({ dataDir, port, onLog: options.onLog, settings: options.settings });
  } finally {
    await lock.release();
  }
  try {
    // Checks the password, and moves a legacy cluster to the file's password.
    if (!(await serverReady(target)))
      throw new Error(`embedded PostgreSQL on port ${port} stopped answering`);
    await ensureDatabaseExists(target, database);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return { url, owned: true, stop: () => cluster.stop() };
}
