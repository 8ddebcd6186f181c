import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotEntry } from './snapshot.js';

/** The last-known-good file: a consistent snapshot and the revision it reflects (when known). */
export interface CachedSnapshot {
  readonly format: 1;
  readonly savedAt: string;
  readonly revision: number | undefined;
  readonly entries: readonly SnapshotEntry[];
}

/** One file per (server, watched set), so clients with different scopes never share a cache. */
export function cacheFilePath(dir: string, identity: string): string {
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return join(dir, `k1s0-config-${digest}.json`);
}

export async function readCache(file: string): Promise<CachedSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<CachedSnapshot>;
  if (parsed.format !== 1 || !Array.isArray(parsed.entries) || typeof parsed.savedAt !== 'string')
    throw new Error(`${file} is not a k1s0 config cache file`);
  return parsed as CachedSnapshot;
}

/**
 * Writes atomically: a temporary file in the same directory, then rename() over the old one, so a
 * crash mid-write leaves the previous good file (rename is atomic within one file system).
 */
export async function writeCache(file: string, dir: string, snapshot: CachedSnapshot): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(snapshot), { mode: 0o600 });
  await rename(tmp, file);
}

/** Serialises writes and coalesces bursts: at most one write running and one pending. */
export class CacheWriter {
  private running: Promise<void> | undefined;
  private pending = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: Error) => void,
  ) {}

  schedule(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = (async () => {
      do {
        this.pending = false;
        try {
          await this.write();
        } catch (error) {
          this.onError(error as Error);
        }
      } while (this.pending);
      this.running = undefined;
    })();
  }

  /** Resolves when nothing is being written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}
