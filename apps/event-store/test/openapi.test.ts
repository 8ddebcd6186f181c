import {
  documentedRoutes,
  grpcDiscoveryClient,
  openApiErrors,
  routeKeys,
  servedRestRoutes,
  serviceFromReflection,
  tokenFor,
} from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/service-harness.js';

// Discovery on the real event store: /openapi.json (generated from the routes' zod schemas) and
// gRPC health + reflection on the h2c port, all without a token.
let h: Harness;
let document: Record<string, unknown> & {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
};

beforeAll(async () => {
  h = await startHarness();
  const res = await fetch(`http://127.0.0.1:${h.service.restPort}/openapi.json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as typeof document;
});

afterAll(async () => {
  await h?.stop();
});

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(await openApiErrors(document)).toBeUndefined();
  });

  it('describes exactly the REST routes the server serves', () => {
    const served = routeKeys(servedRestRoutes(h.service.runtime.rest));
    expect(served).toContain('POST /api/v1/streams/{stream_id}/events');
    expect(routeKeys(documentedRoutes(document))).toEqual(served);
  });

  it('lists the status codes of each route', () => {
    const statuses = (method: string, path: string) =>
      Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort();
    expect(statuses('post', '/api/v1/streams/{stream_id}/events')).toEqual(
      ['201', '400', '401', '403', '409', '413', '500', '503'].sort(),
    );
    expect(statuses('get', '/api/v1/streams/{stream_id}/events/{sequence}')).toEqual(
      ['200', '400', '401', '403', '404', '500', '503'].sort(),
    );
    const components = document.components as { schemas: Record<string, unknown> };
    expect(Object.keys(components.schemas)).toEqual(expect.arrayContaining(['ErrorEnvelope', 'Event']));
  });

  it('validates with the documented schema: a non-integer sequence is a 400 naming it', async () => {
    const res = await fetch(`http://127.0.0.1:${h.service.restPort}/api/v1/streams/s-1/events/abc`, {
      headers: { authorization: `Bearer ${tokenFor('sys_auditor')}` },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { field: string }[] } };
    expect(body.error.code).toBe('SYS_EVSTORE_VALIDATION_ERROR');
    expect(body.error.details.map((d) => d.field)).toEqual(['sequence']);
  });
});

describe('gRPC discovery on the h2c port', () => {
  it('health answers SERVING without a token, and reflection describes EventStoreService', async () => {
    const name = 'k1s0.system.eventstore.v1.EventStoreService';
    const client = grpcDiscoveryClient(h.service.grpcPort);
    try {
      expect(await client.check('')).toBe('SERVING');
      expect(await client.check(name)).toBe('SERVING');
      const list = await client.reflect('v1alpha', { list_services: '' });
      expect(list.list_services_response?.service.map((s) => s.name)).toContain(name);
      const files = await client.reflect('v1', { file_containing_symbol: `${name}.AppendEvents` });
      const Service = serviceFromReflection(
        files.file_descriptor_response?.file_descriptor_proto ?? [],
        name,
      );
      expect(Object.keys(Service.service)).toEqual(expect.arrayContaining(['AppendEvents', 'SubscribeAll']));
    } finally {
      client.close();
    }
  });
});
