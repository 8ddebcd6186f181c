import {
  documentedRoutes,
  grpcDiscoveryClient,
  openApiErrors,
  routeKeys,
  servedRestRoutes,
  serviceFromReflection,
} from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigServer, type ErrorBody, startWithDatabase, tokens } from './support/service.js';

// Discovery on the real config server: /openapi.json (generated from the routes' zod schemas)
// and gRPC health + reflection on the h2c port, all without a token.
let server: ConfigServer;
let stop: () => Promise<void>;
let document: Record<string, unknown> & {
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
};

beforeAll(async () => {
  ({ server, stop } = await startWithDatabase());
  const res = await fetch(`http://127.0.0.1:${server.restPort}/openapi.json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as typeof document;
});

afterAll(async () => {
  await stop?.();
});

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(await openApiErrors(document)).toBeUndefined();
  });

  it('describes exactly the REST routes the server serves', () => {
    const served = routeKeys(servedRestRoutes(server.runtime.rest));
    expect(served).toContain('GET /openapi.json');
    expect(routeKeys(documentedRoutes(document))).toEqual(served);
  });

  it('lists the status codes of each route and the error envelope component', () => {
    const statuses = (method: string, path: string) =>
      Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort();
    expect(statuses('put', '/api/v1/config/{namespace}/{key}')).toEqual(
      ['200', '201', '400', '401', '403', '404', '409', '413', '500', '503'].sort(),
    );
    expect(statuses('delete', '/api/v1/config/{namespace}/{key}')).toEqual(
      ['204', '400', '401', '403', '404', '409', '500', '503'].sort(),
    );
    expect(statuses('get', '/api/v1/config/services/{service_name}')).toEqual(
      ['200', '400', '401', '404', '500', '503'].sort(),
    );
    expect(statuses('get', '/readyz')).toEqual(['200', '500', '503']);
    // The WebSocket feed: 101 on upgrade (its schema is that of each message), errors before it.
    expect(statuses('get', '/ws/v1/configs/updates')).toEqual(
      ['101', '400', '401', '403', '426', '500', '503'].sort(),
    );
    const components = document.components as { schemas: Record<string, unknown> };
    expect(Object.keys(components.schemas)).toEqual(
      expect.arrayContaining(['ErrorEnvelope', 'ConfigEntry', 'ConfigUpdate']),
    );
    const notFound = document.paths['/api/v1/config/{namespace}/{key}']?.get?.responses['404'];
    expect(notFound).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
    });
    // Authenticated operations say so; the operational ones are public.
    expect(document.paths['/api/v1/config/{namespace}']?.get?.security).toEqual([
      { bearerAuth: [] },
      { apiKeyAuth: [] },
    ]);
    expect(document.paths['/healthz']?.get?.security).toBeUndefined();
  });

  it('describes request bodies from the zod schemas the route validates with', () => {
    const put = document.paths['/api/v1/config/{namespace}/{key}']?.put as unknown as {
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
    };
    const body = put.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties).sort()).toEqual([
      'description',
      'metadata',
      'secret',
      'value',
      'version',
    ]);
    expect(body.properties.version).toMatchObject({ type: 'integer', minimum: 0 });
    expect(body.properties.secret).toMatchObject({ type: 'boolean' });
  });

  it('still answers bad input with the validation envelope naming the field', async () => {
    const res = await fetch(`http://127.0.0.1:${server.restPort}/api/v1/config/system.auth/k`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin}` },
      body: JSON.stringify({ value: 1, version: 'one' }),
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error.code).toBe('SYS_CONFIG_VALIDATION_FAILED');
    expect(error.details.map((d) => d.field)).toEqual(['version']);
  });
});

describe('gRPC discovery on the h2c port', () => {
  it('health answers SERVING without a token, and reflection describes ConfigService', async () => {
    const client = grpcDiscoveryClient(server.grpcPort);
    try {
      expect(await client.check('')).toBe('SERVING');
      expect(await client.check('k1s0.system.config.v1.ConfigService')).toBe('SERVING');
      const list = await client.reflect('v1', { list_services: '' });
      expect(list.list_services_response?.service.map((s) => s.name)).toContain(
        'k1s0.system.config.v1.ConfigService',
      );
      const files = await client.reflect('v1alpha', {
        file_containing_symbol: 'k1s0.system.config.v1.ConfigService',
      });
      const Service = serviceFromReflection(
        files.file_descriptor_response?.file_descriptor_proto ?? [],
        'k1s0.system.config.v1.ConfigService',
      );
      expect(Object.keys(Service.service)).toContain('GetServiceConfig');
    } finally {
      client.close();
    }
  });
});
