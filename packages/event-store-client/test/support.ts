import { connect, createServer, type Server, type Socket } from 'node:net';
import { type RunningService, startService } from '@k1s0/platform';
import { createTestDatabase, type TestDatabase } from '@k1s0/platform/testing';
import { type EventStoreConfig, eventStoreService } from '../../../apps/event-store/src/index.js';

export { tokenFor, waitFor } from '@k1s0/platform/testing';

type Service = RunningService<EventStoreConfig>;

/** The real event-store on a test database, restartable on the same ports. */
export interface RestartableEventStore {
  readonly baseUrl: string;
  readonly databaseUrl: string;
  stop(): Promise<void>;
  start(): Promise<Service>;
  dispose(): Promise<void>;
}

const env = (url: string, extra: Record<string, string>) => ({
  ...process.env,
  DATABASE_URL: url,
  LOG_LEVEL: 'silent',
  KAFKA_BROKERS: '',
  APP_ENV: 'test',
  ...extra,
});

export async function restartableEventStore(): Promise<RestartableEventStore> {
  const testDb: TestDatabase = await createTestDatabase();
  let service: Service | undefined = await startService(
    eventStoreService,
    env(testDb.url, { PORT: '0', GRPC_PORT: '0' }),
  );
  const ports = { PORT: String(service.restPort), GRPC_PORT: String(service.grpcPort) };
  return {
    baseUrl: `http://127.0.0.1:${service.restPort}`,
    databaseUrl: testDb.url,
    async stop() {
      await service?.stop();
      service = undefined;
    },
    async start() {
      service = await startService(eventStoreService, env(testDb.url, ports));
      return service;
    },
    async dispose() {
      await service?.stop();
      service = undefined;
      await testDb.drop();
    },
  };
}

/**
 * A TCP proxy in front of a server. While `dropResponses` > 0, a connection forwards the request
 * to the server and is cut as soon as the server starts answering: the server has done the work,
 * the client never hears about it (a "lost first response").
 */
export interface LossyProxy {
  readonly url: string;
  dropResponses: number;
  readonly dropped: number;
  close(): Promise<void>;
}

export async function lossyProxy(target: URL): Promise<LossyProxy> {
  const sockets = new Set<Socket>();
  const state = { dropResponses: 0, dropped: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (state.dropResponses > 0) {
        state.dropResponses--;
        state.dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('end', end).on('error', end);
    client.on('end', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get dropResponses() {
      return state.dropResponses;
    },
    set dropResponses(n: number) {
      state.dropResponses = n;
    },
    get dropped() {
      return state.dropped;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
