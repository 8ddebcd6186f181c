/**
 * Database-outage drill shared by the services' tests (issue 10 finding 8): the service talks to
 * PostgreSQL through a TcpProxy; the drill cuts (or blackholes) the line, sends requests during the
 * outage and records how each was answered and how long it took, then restores the line and waits
 * for the service to answer successfully again, without a restart.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTcpProxy, type TcpProxy, type TcpProxyMode } from './tcp-proxy.js';
import { waitFor } from './wait-for.js';

/**
 * A copy of a service's config folder with `overlayYaml` as config.test.yaml (layered over
 * config.yaml when APP_ENV=test), e.g. to give a test short database timeouts. `remove()` deletes it.
 */
export function configDirWithOverlay(
  configDir: string,
  overlayYaml: string,
): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'k1s0-config-'));
  cpSync(join(configDir, 'config.yaml'), join(dir, 'config.yaml'));
  writeFileSync(join(dir, 'config.test.yaml'), overlayYaml);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OutageAnswer {
  status: number;
  body: unknown;
  ms: number;
}

export interface DatabaseOutageDrillOptions {
  /** The database the service should reach (through the proxy). */
  databaseUrl: string;
  mode: TcpProxyMode;
  /** Starts the service with this DATABASE_URL. */
  start(databaseUrl: string): Promise<{ stop(): Promise<void> }>;
  /** One request that needs the database, e.g. a read or an append. */
  request(): Promise<Response>;
  /** Requests sent during the outage, one after the other. Default 4. */
  requests?: number;
  /** Also sent concurrently with the sequential ones. Default 4. */
  concurrent?: number;
  /** How long recovery may take. Default 30 s. */
  recoveryTimeoutMs?: number;
}

export interface DatabaseOutageReport {
  /** Every answer during the outage, sequential first. */
  duringOutage: OutageAnswer[];
  /** The first successful answer after the line was restored. */
  recovered: OutageAnswer;
}

async function timed(request: () => Promise<Response>): Promise<OutageAnswer> {
  const started = performance.now();
  const response = await request();
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the assertion message
  }
  return { status: response.status, body, ms: Math.round(performance.now() - started) };
}

export async function databaseOutageDrill(
  options: DatabaseOutageDrillOptions,
): Promise<DatabaseOutageReport> {
  const url = new URL(options.databaseUrl);
  const proxy: TcpProxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const service = await options.start(url.toString());
  try {
    await waitFor('the service answers before the outage', async () => (await options.request()).ok, 30_000);
    if (options.mode === 'cut') proxy.cut();
    else proxy.blackhole();
    const concurrent = Array.from({ length: options.concurrent ?? 4 }, () => timed(options.request));
    const sequential: OutageAnswer[] = [];
    for (let i = 0; i < (options.requests ?? 4); i++) sequential.push(await timed(options.request));
    const duringOutage = [...sequential, ...(await Promise.all(concurrent))];
    proxy.restore();
    let recovered: OutageAnswer | undefined;
    await waitFor(
      'a successful answer after the database came back',
      async () => {
        const answer = await timed(options.request);
        if (answer.status < 300) recovered = answer;
        return recovered !== undefined;
      },
      options.recoveryTimeoutMs ?? 30_000,
    );
    return { duringOutage, recovered: recovered! };
  } finally {
    await service.stop();
    await proxy.close();
  }
}
