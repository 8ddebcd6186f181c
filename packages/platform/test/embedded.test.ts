import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl } from '../src/embedded/embedded-cluster.js';
import {
  type EmbeddedPostgres,
  embeddedPasswordFile,
  ensureEmbeddedPostgres,
} from '../src/embedded/index.js';
import { freePort } from '../src/testing/global-setup.js';

async function query<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 1 });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 0 });
  }
}

describe('ensureEmbeddedPostgres', () => {
  let root: string;
  let port: number;
  const started: EmbeddedPostgres[] = [];

  beforeAll(async () => {
    // A parent only root can read, like a repo under /root: the server account must still reach it.
    root = await mkdtemp(path.join(tmpdir(), 'k1s0-embedded-'));
    port = await freePort();
  });

  afterAll(async () => {
    for (const server of started.reverse()) await server.stop();
    await rm(root, { recursive: true, force: true });
  });

  const dataDir = () => path.join(root, 'data', 'postgres');
  const filePassword = async () => (await readFile(embeddedPasswordFile(dataDir()), 'utf8')).trim();

  const ensure = async (database: string) => {
    const server = await ensureEmbeddedPostgres({
      dataDir: dataDir(),
      port,
      database,
    });
    started.push(server);
    return server;
  };

  it('initialises and starts a server when none answers, creating the database', async () => {
    const first = await ensure('app_one');
    expect(first.owned).toBe(true);
    expect(first.url).toBe(`postgres://postgres:${await filePassword()}@127.0.0.1:${port}/app_one`);
    await query(first.url, (sql) => sql`create table kept (id int primary key)`);
    expect(await query(first.url, (sql) => sql`select current_database() as db`)).toEqual([
      { db: 'app_one' },
    ]);
  }, 30_000);

  it('gives the cluster a random password, kept owner-only next to the data directory', async () => {
    const file = embeddedPasswordFile(dataDir());
    expect(file).toBe(`${dataDir()}.password`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const password = await filePassword();
    // 24 random bytes, base64url.
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await answers(embeddedUrl(port, 'postgres', password))).toBe(true);
    // The pre-issue-10 default no longer opens it.
    expect(await answers(embeddedUrl(port, 'postgres', 'password'))).toBe(false);
    // pg_hba asks every connection for the password (SCRAM); nothing is trusted.
    const rules = await query(
      started[0]!.url,
      (sql) => sql<{ type: string; auth_method: string }[]>`
        select distinct type, auth_method from pg_hba_file_rules where error is null order by 1, 2`,
    );
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.auth_method).toBe('scram-sha-256');
    expect(rules.map((rule) => rule.type)).toContain('host');
  });

  it('reuses the running server on the same port (the other service), creating its database', async () => {
    const second = await ensure('app_two');
    expect(second.owned).toBe(false);
    expect(await query(second.url, (sql) => sql`select current_database() as db`)).toEqual([
      { db: 'app_two' },
    ]);
    // Stopping a borrowed server is a no-op: the owner's database still answers.
    await second.stop();
    expect(await answers(started[0]!.url)).toBe(true);
  });

  it('stops the server it owns, and a restart keeps the data', async () => {
    const owner = started.shift()!;
    const password = await filePassword();
    await owner.stop();
    expect(await answers(owner.url)).toBe(false);

    const restarted = await ensure('app_one');
    expect(restarted.owned).toBe(true);
    // The restart reads the same password from the file; nothing is regenerated.
    expect(await filePassword()).toBe(password);
    expect(restarted.url).toBe(owner.url);
    expect(await query(restarted.url, (sql) => sql`select to_regclass('kept')::text as t`)).toEqual([
      { t: 'kept' },
    ]);
  }, 30_000);

  it('lets concurrent starts share one server', async () => {
    for (const server of started.splice(0)) await server.stop();
    const both = await Promise.all([ensure('app_one'), ensure('app_two')]);
    expect(both.map((server) => server.owned).sort()).toEqual([false, true]);
    for (const server of both) expect(await answers(server.url)).toBe(true);
  }, 30_000);
});
