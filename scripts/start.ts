/**
 * `./k1s0 start`: both services in one terminal. With no DATABASE_URL it starts the embedded
 * PostgreSQL once (data under .data/postgres) and hands its URL to both services, so neither
 * races the other to start it; SIGINT/SIGTERM stop the services gracefully, then the database.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EmbeddedPostgres, ensureEmbeddedPostgres, SERVICE_NODE_ARGS } from '@k1s0/platform';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  { name: 'config-server', entry: 'apps/config-server/src/main.ts', readyz: 'http://127.0.0.1:8080/readyz' },
  { name: 'event-store', entry: 'apps/event-store/src/main.ts', readyz: 'http://127.0.0.1:8099/readyz' },
];

async function waitReady(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(url)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main(): Promise<void> {
  let embedded: EmbeddedPostgres | undefined;
  const env = { ...process.env };
  if (!env.DATABASE_URL) {
    embedded = await ensureEmbeddedPostgres({
      dataDir: join(root, '.data/postgres'),
      port: 54329,
      database: 'k1s0',
    });
    env.DATABASE_URL = embedded.url;
    console.error(
      'k1s0: embedded PostgreSQL on 127.0.0.1:54329 (data in .data/postgres, password in .data/postgres.password)',
    );
  }
  // Each service is a plain node process (tsx as a loader, not its CLI wrapper), so the signal
  // the launcher forwards reaches the server itself.
  const children = services.map((s) => ({
    ...s,
    child: spawn(process.execPath, [...SERVICE_NODE_ARGS, join(root, s.entry)], {
      env,
      stdio: 'inherit',
      cwd: root,
    }),
  }));

  let stopping = false;
  const exited = children.map(
    ({ child }) => new Promise<number>((done) => child.on('exit', (code) => done(code ?? 1))),
  );
  const stopAll = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const { child } of children) if (child.exitCode === null) child.kill(signal);
    const codes = await Promise.all(exited);
    await embedded?.stop();
    process.exit(codes.every((c) => c === 0) ? 0 : 1);
  };
  process.on('SIGINT', () => void stopAll('SIGTERM'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));
  for (const [i, promise] of exited.entries()) {
    void promise.then((code) => {
      if (stopping) return;
      console.error(`k1s0: ${children[i]!.name} exited with code ${code}; stopping the rest`);
      void stopAll('SIGTERM');
    });
  }

  const ready = await Promise.all(children.map(({ readyz, child }) => waitReady(readyz, child)));
  if (ready.every(Boolean)) {
    console.error(
      'k1s0: ready — config-server http://127.0.0.1:8080 (gRPC :50051), event-store http://127.0.0.1:8099 (gRPC :9090)',
    );
    console.error(
      'k1s0: mint a token with `./k1s0 token --role sys_admin --email you@example.com`; Ctrl-C stops',
    );
  }
}

main().catch((error: unknown) => {
  console.error('k1s0: start failed:', error);
  process.exit(1);
});
