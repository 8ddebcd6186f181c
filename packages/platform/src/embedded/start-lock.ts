import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}

export interface StartLock {
  release(): Promise<void>;
}

/**
 * An exclusive lock file (O_EXCL create, holding our pid) so that only one process at a time
 * initialises/starts the cluster. A lock left by a dead process is taken over.
 * `onWait` runs between attempts; returning true gives up waiting (the other process
 * finished starting the server) and resolves undefined.
 */
export async function acquireStartLock(
  lockPath: string,
  onWait: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<StartLock | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => unlink(lockPath).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    // A dead holder's lock is stale; so is a pid-less one older than a few seconds (its writer
    // died between create and write; a fresh empty one is being written right now).
    const stale = Number.isInteger(holder) ? !processAlive(holder) : await olderThan(lockPath, 5_000);
    if (stale) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (await onWait()) return undefined;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath} (held by pid ${holder})`);
    await sleep(100);
  }
}
