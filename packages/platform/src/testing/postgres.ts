import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the run's PostgreSQL, provided by src/testing/global-setup.ts. */
    k1s0PostgresUrl: string;
  }
}

export interface TestDatabase {
  /** URL of a fresh, empty database owned by the calling test file. */
  url: string;
  name: string;
  /** Drops the database, closing any connection still open on it. */
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = inject('k1s0PostgresUrl') ?? process.env.K1S0_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error(
      "no test PostgreSQL: add '@k1s0/platform' src/testing/global-setup.ts to this vitest config's globalSetup",
    );
  }
  return url;
}

async function asAdmin(statement: string): Promise<void> {
  const sql = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A new database `t_<random>` on the run's server, so test files can run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await asAdmin(`create database "${name}"`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => asAdmin(`drop database if exists "${name}" with (force)`),
  };
}
