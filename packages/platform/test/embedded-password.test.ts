import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl, type RunningCluster, startCluster } from '../src/embedded/embedded-cluster.js';
import {
  type EmbeddedPostgres,
  embeddedPasswordFile,
  ensureEmbeddedPostgres,
} from '../src/embedded/index.js';
import { readOrCreatePassword } from '../src/embedded/password-file.js';
import { freePort } from '../src/testing/global-setup.js';

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 0 });
  }
}

describe('readOrCreatePassword', () => {
  it('creates one owner-only password even when several processes race, and keeps it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'k1s0-password-file-'));
    try {
      const file = path.join(dir, 'postgres.password');
      const raced = await Promise.all(Array.from({ length: 8 }, () => readOrCreatePassword(file)));
      expect(new Set(raced).size).toBe(1);
      expect(raced[0]).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      // No temp files left behind; a later call reads the same password.
      expect(await readdir(dir)).toEqual(['postgres.password']);
      expect(await readOrCreatePassword(file)).toBe(raced[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A data folder initialised before issue 10 (superuser postgres/password, no password file):
 * made by the real initdb path with a password file holding the old default, then removed.
 */
describe('embedded PostgreSQL credentials of a legacy data folder', () => {
  let root: string;
  let port: number;
  let legacyDir: string;
  let legacy: RunningCluster | undefined;
  const started: EmbeddedPostgres[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'k1s0-embedded-pw-'));
    port = await freePort();
    legacyDir = path.join(root, 'legacy', 'postgres');
    await mkdir(path.dirname(legacyDir), { recursive: true });
    await writeFile(embeddedPasswordFile(legacyDir), 'password\n', { mode: 0o600 });
    legacy = await startCluster({ dataDir: legacyDir, port, initdbFlags: ['--no-sync'] });
    await rm(embeddedPasswordFile(legacyDir));
  }, 60_000);

  afterAll(async () => {
    await legacy?.stop();
    for (const server of started.reverse()) await server.stop();
    await rm(root, { recursive: true, force: true });
  });

  const ensure = async (dataDir: string) => {
    const server = await ensureEmbeddedPostgres({ dataDir, port, database: 'app' });
    started.push(server);
    return server;
  };
  const passwordOf = async (dataDir: string) =>
    (await readFile(embeddedPasswordFile(dataDir), 'utf8')).trim();

  it('refuses a server on the port that serves another data directory, and leaves it alone', async () => {
    const other = path.join(root, 'other', 'postgres');
    // It accepts the old default password, but it is not this data folder's cluster.
    await expect(ensure(other)).rejects.toThrow(
      `port ${port} is in use by another PostgreSQL (data directory ${legacyDir}), not the embedded cluster of ${other}`,
    );
    expect(await answers(embeddedUrl(port, 'postgres', 'password'))).toBe(true);
  });

  it('moves a legacy cluster to a random password on start: file written, old password refused', async () => {
    await legacy?.stop();
    legacy = undefined;
    const server = await ensure(legacyDir);
    expect(server.owned).toBe(true);
    const file = embeddedPasswordFile(legacyDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const password = await passwordOf(legacyDir);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(server.url).toBe(embeddedUrl(port, 'app', password));
    expect(await answers(server.url)).toBe(true);
    expect(await answers(embeddedUrl(port, 'postgres', 'password'))).toBe(false);
  }, 30_000);

  it('redoes the move when the file was written but the cluster still has the old password', async () => {
    // The state a crash between writing the file and ALTER ROLE leaves behind.
    const running = started.pop()!;
    const password = await passwordOf(legacyDir);
    const sql = postgres(running.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(`alter role postgres password 'password'`);
    await sql.end();
    await running.stop();

    const server = await ensure(legacyDir);
    expect(await passwordOf(legacyDir)).toBe(password);
    expect(await answers(server.url)).toBe(true);
    expect(await answers(embeddedUrl(port, 'postgres', 'password'))).toBe(false);
  }, 30_000);

  it('refuses a server on the port that does not accept the data folder password', async () => {
    const other = path.join(root, 'other', 'postgres');
    await expect(ensure(other)).rejects.toThrow(
      `port ${port} is in use by a PostgreSQL that does not accept the password of the embedded cluster in ${other}`,
    );
    // The running cluster is untouched.
    expect(await answers(started[0]!.url)).toBe(true);
  });
});
