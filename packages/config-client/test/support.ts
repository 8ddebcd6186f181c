import { createTestDatabase, type TestDatabase } from '@k1s0/platform/testing';
import { type ConfigServer, startConfigServer } from '../../../apps/config-server/test/support/service.js';

export { waitFor } from '@k1s0/platform/testing';
export { put, tokens } from '../../../apps/config-server/test/support/service.js';

/** A real config-server on a test database that can be stopped and started again on the same port. */
export interface RestartableServer {
  readonly baseUrl: string;
  readonly grpcUrl: string;
  /** The server's database, for a second instance or direct reads. */
  readonly databaseUrl: string;
  readonly current: ConfigServer | undefined;
  stop(): Promise<void>;
  start(): Promise<ConfigServer>;
  /** Stops the server (if running) and drops the database. */
  dispose(): Promise<void>;
}

export async function restartableConfigServer(): Promise<RestartableServer> {
  const testDb: TestDatabase = await createTestDatabase();
  let server: ConfigServer | undefined = await startConfigServer(testDb.url, { APP_ENV: 'test' });
  const port = server.restPort;
  const grpcPort = server.grpcPort;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    databaseUrl: testDb.url,
    get current() {
      return server;
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server = await startConfigServer(testDb.url, {
        APP_ENV: 'test',
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
      });
      return server;
    },
    async dispose() {
      await server?.stop();
      server = undefined;
      await testDb.drop();
    },
  };
}
