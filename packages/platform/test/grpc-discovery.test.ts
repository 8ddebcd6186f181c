import { ConfigService } from '@k1s0/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformConfigSchema } from '../src/config/index.js';
import { createServiceRuntime, type ServiceRuntime } from '../src/http/index.js';
import { createLogger, createMetrics } from '../src/observability/index.js';
import {
  type GrpcDiscoveryClient,
  grpcDiscoveryClient,
  serviceFromReflection,
} from '../src/testing/index.js';

// grpc.health.v1 and server reflection as the platform adds them to every gRPC listener, seen by
// the official grpc-js client; readiness is a switch here so the health status can be flipped.
const CONFIG_SERVICE = 'k1s0.system.config.v1.ConfigService';
let runtime: ServiceRuntime;
let client: GrpcDiscoveryClient;
let dbUp = true;

beforeAll(async () => {
  const config = platformConfigSchema.parse({
    app: { name: 'test' },
    server: { port: 0, host: '127.0.0.1' },
    grpc: { port: 0 },
    database: {},
    auth: {},
  });
  runtime = await createServiceRuntime({
    config,
    codes: { prefix: 'SYS_TEST_', validation: 'VALIDATION_FAILED', validationMessage: 'validation failed' },
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetrics('test'),
    readiness: {
      database: async () => {
        if (!dbUp) throw new Error('connection refused');
      },
    },
    rest: () => {},
    openapi: { title: 'test', version: '0.0.0', description: 'test' },
    // A real generated service; its methods are never called here.
    connect: { routes: (router) => router.service(ConfigService, {}), interceptors: [] },
  });
  const { grpcPort } = await runtime.listen();
  client = grpcDiscoveryClient(grpcPort);
});

afterAll(async () => {
  client?.close();
  await runtime?.close();
});

const until = async (condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('grpc.health.v1.Health', () => {
  it('answers SERVING for the server ("") and each served service while ready', async () => {
    expect(await client.check('')).toBe('SERVING');
    expect(await client.check(CONFIG_SERVICE)).toBe('SERVING');
    expect(await client.check('grpc.health.v1.Health')).toBe('SERVING');
  });

  it('fails Check for an unknown service with NOT_FOUND', async () => {
    await expect(client.check('no.such.Service')).rejects.toMatchObject({ code: 5 });
  });

  it('answers NOT_SERVING while a readiness check fails, and SERVING again after', async () => {
    dbUp = false;
    try {
      expect(await client.check('')).toBe('NOT_SERVING');
      expect(await client.check(CONFIG_SERVICE)).toBe('NOT_SERVING');
    } finally {
      dbUp = true;
    }
    expect(await client.check('')).toBe('SERVING');
  });

  it('Watch sends the current status, then each change', async () => {
    const watch = client.watch(CONFIG_SERVICE);
    try {
      await until(() => watch.statuses.length === 1);
      expect(watch.statuses).toEqual(['SERVING']);
      dbUp = false;
      await until(() => watch.statuses.length === 2);
      dbUp = true;
      await until(() => watch.statuses.length === 3);
      expect(watch.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    } finally {
      dbUp = true;
      watch.cancel();
    }
  });

  it('Watch of an unknown service reports SERVICE_UNKNOWN and stays open', async () => {
    const watch = client.watch('no.such.Service');
    await until(() => watch.statuses.length === 1);
    expect(watch.statuses).toEqual(['SERVICE_UNKNOWN']);
    watch.cancel();
    expect(await watch.ended).toMatchObject({ code: 1 }); // CANCELLED: ended by us, not the server
  });
});

describe('server reflection', () => {
  it.each(['v1', 'v1alpha'] as const)('%s lists the app service, health and reflection', async (version) => {
    const reply = await client.reflect(version, { host: '', list_services: '' });
    expect(reply.list_services_response?.service.map((s) => s.name).sort()).toEqual([
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      CONFIG_SERVICE,
    ]);
  });

  it.each([CONFIG_SERVICE, `${CONFIG_SERVICE}.WatchConfig`, 'k1s0.system.config.v1.GetConfigRequest'])(
    'returns descriptors for %s that grpc-js can load',
    async (symbol) => {
      const reply = await client.reflect('v1', { host: '', file_containing_symbol: symbol });
      const files = reply.file_descriptor_response?.file_descriptor_proto ?? [];
      const Service = serviceFromReflection(files, CONFIG_SERVICE);
      expect(Object.keys(Service.service)).toEqual(
        expect.arrayContaining(['GetConfig', 'ListConfigs', 'UpdateConfig', 'DeleteConfig', 'WatchConfig']),
      );
    },
  );

  it('answers file_by_filename with the file and its imports, and NOT_FOUND for unknown names', async () => {
    const reply = await client.reflect('v1alpha', { file_by_filename: 'grpc/health/v1/health.proto' });
    expect(reply.file_descriptor_response?.file_descriptor_proto.length).toBe(1);
    const missing = await client.reflect('v1', { file_containing_symbol: 'no.such.Thing' });
    expect(missing.error_response).toMatchObject({ error_code: 5 });
  });
});

describe('shutdown', () => {
  it('Watch reports NOT_SERVING when shutdown starts, then the stream ends UNAVAILABLE', async () => {
    const watch = client.watch('');
    await until(() => watch.statuses.length === 1);
    await runtime.close();
    // UNAVAILABLE, not OK: a stream ended by a shutdown is not the end of data (issue 10, finding 9).
    expect(await watch.ended).toMatchObject({ code: 14 });
    expect(watch.statuses).toEqual(['SERVING', 'NOT_SERVING']);
  });
});
