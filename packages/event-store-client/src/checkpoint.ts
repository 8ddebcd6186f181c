import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Where a subscription remembers the sequence of the last event its consumer finished with.
 * `load()` answers undefined when nothing was stored yet.
 */
export interface CheckpointStore {
  load(): Promise<number | undefined>;
  save(sequence: number): Promise<void>;
}

/** A checkpoint in a small JSON file, replaced atomically (temporary file + rename). */
export function fileCheckpoint(path: string): CheckpointStore {
  return {
    async load() {
      try {
        const parsed = JSON.parse(await readFile(path, 'utf8')) as { sequence?: unknown };
        if (typeof parsed.sequence !== 'number' || !Number.isSafeInteger(parsed.sequence))
          throw new Error(`${path} holds no checkpoint sequence`);
        return parsed.sequence;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(sequence) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ sequence, saved_at: new Date().toISOString() }));
      await rename(tmp, path);
    },
  };
}
