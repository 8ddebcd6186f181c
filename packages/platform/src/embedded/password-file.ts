import { randomBytes } from 'node:crypto';
import { chmod, link, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The superuser password every embedded cluster had before issue 10. A cluster still using it
 * is moved to a random password on its next start (see ensureEmbeddedPostgres).
 */
export const LEGACY_EMBEDDED_PASSWORD = 'password';

/**
 * Where a cluster's superuser password is kept: next to its data directory (`.data/postgres` →
 * `.data/postgres.password`), not inside it, because initdb needs an empty directory and the
 * password must exist before initdb runs (so a crash can never leave a cluster whose password
 * nobody knows).
 */
export function embeddedPasswordFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.password`;
}

async function readPassword(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const password = text.trim();
  if (!password) throw new Error(`embedded PostgreSQL password file ${file} is empty`);
  return password;
}

/**
 * The password in `file`, which is created first when missing: 24 random bytes (base64url),
 * owner-only (0600). Written to a temp name, flushed, then hard-linked into place, so a crash
 * never leaves a half-written file and two processes racing here agree on one password (the
 * link fails for the loser, who reads the winner's).
 */
export async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await readPassword(file);
  if (existing) return existing;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(24).toString('base64url')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The umask can only remove bits, but a chmod makes owner-only explicit whatever it is.
    await chmod(temp, 0o600);
    await link(temp, file).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const created = await readPassword(file);
  if (!created) throw new Error(`embedded PostgreSQL password file ${file} vanished while being created`);
  return created;
}
