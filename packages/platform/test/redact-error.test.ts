/**
 * issue 10 finding 11: a failing query's parameter values reach neither the log nor span events.
 * Real PostgreSQL, real drizzle/postgres.js errors, pino writing to a memory destination, spans
 * recorded by the OpenTelemetry SDK's in-memory exporter.
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/database.js';
import { createLogger } from '../src/observability/logger.js';
import { redactError } from '../src/observability/redact-error.js';
import { traced } from '../src/observability/tracing.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';

const SECRET = 'hunter2-parameter-value';
let testDb: TestDatabase;
let database: Database;
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 2 });
  await database.sql`create table secrets (v text primary key)`;
  await database.sql`insert into secrets values (${SECRET})`;
  trace.setGlobalTracerProvider(provider);
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  await database?.close();
  await testDb?.drop();
});

/** A unique violation on SECRET through drizzle: message, detail and parameters all carry it. */
async function failingInsert(): Promise<unknown> {
  try {
    await database.db.execute(sql`insert into secrets values (${SECRET})`);
  } catch (error) {
    return error;
  }
  throw new Error('expected the insert to fail');
}

describe('redactError', () => {
  it('the raw driver error does carry the value (so the test can fail)', async () => {
    const error = (await failingInsert()) as Error & { cause?: Record<string, unknown> };
    expect(`${error.message} ${String(error.cause?.detail)}`).toContain(SECRET);
  });

  it('keeps code, table and constraint, drops parameters and detail', async () => {
    const redacted = redactError(await failingInsert()) as Error & { cause: Record<string, unknown> };
    expect(redacted.cause).toMatchObject({
      code: '23505',
      table_name: 'secrets',
      constraint_name: 'secrets_pkey',
    });
    expect(
      JSON.stringify({ ...redacted.cause, message: redacted.message, stack: redacted.stack }),
    ).not.toContain(SECRET);
  });

  it('log lines (pino destination) carry no parameter value', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { name: 'redact-test', level: 'info' },
      { write: (line: string) => lines.push(line) },
    );
    const error = await failingInsert();
    logger.error({ err: error }, 'query failed');
    logger.warn({ error }, 'query failed again');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('23505');
    for (const line of lines) expect(line).not.toContain(SECRET);
  });

  it('span exception events (traced) carry no parameter value', async () => {
    exporter.reset();
    await traced('redact.test', async () => {
      throw await failingInsert();
    }).catch(() => undefined);
    const [span] = exporter.getFinishedSpans().filter((candidate) => candidate.name === 'redact.test');
    const events = JSON.stringify(span?.events);
    expect(events).toContain('exception');
    expect(events).not.toContain(SECRET);
  });
});
