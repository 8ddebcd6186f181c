import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createContextValues, createHandlerContext } from '@connectrpc/connect';
import { ConfigService, configV1 } from '@k1s0/proto';
import { describe, expect, it } from 'vitest';
import {
  binaryCodecKey,
  encodesBinary,
  preEncoded,
  rawFields,
  withRawFields,
} from '../src/http/pre-encoded.js';

const change = create(configV1.ConfigChangeEventSchema, {
  namespace: 'system.auth',
  key: 'jwt.ttl',
  oldValue: new TextEncoder().encode('300'),
  newValue: new TextEncoder().encode('600'),
  oldVersion: 1,
  newVersion: 2,
  changedBy: 'ops@example.com',
  changeType: 'UPDATED',
  changedAt: { seconds: 1_700_000_000n, nanos: 5 },
  revision: 42n,
});

function contextWith(contentType: string | undefined) {
  const requestHeader = new Headers(contentType === undefined ? {} : { 'content-type': contentType });
  return createHandlerContext({
    service: ConfigService,
    method: ConfigService.method.watchConfig,
    protocolName: 'test',
    requestMethod: 'POST',
    url: 'http://localhost/',
    requestHeader,
    contextValues: createContextValues(),
  });
}

describe('pre-encoded messages', () => {
  it('go out as the bytes toBinary writes for the message, and decode to it', () => {
    const encoded = preEncoded(configV1.ConfigChangeEventSchema, change);
    expect(encoded.namespace).toBe('');
    const bytes = toBinary(configV1.ConfigChangeEventSchema, encoded);
    expect(bytes).toEqual(toBinary(configV1.ConfigChangeEventSchema, change));
    expect(fromBinary(configV1.ConfigChangeEventSchema, bytes)).toEqual(change);
  });

  it('follow known fields set on the same message; no bytes, no entry', () => {
    const tail = rawFields(
      toBinary(configV1.ConfigChangeEventSchema, create(configV1.ConfigChangeEventSchema, { key: 'k' })),
    );
    const message = withRawFields(create(configV1.ConfigChangeEventSchema, { namespace: 'ns' }), tail);
    const decoded = fromBinary(
      configV1.ConfigChangeEventSchema,
      toBinary(configV1.ConfigChangeEventSchema, message),
    );
    expect([decoded.namespace, decoded.key]).toEqual(['ns', 'k']);
    expect(rawFields(new Uint8Array())).toBeUndefined();
  });

  it('are only for binary codecs', () => {
    for (const type of [
      'application/grpc',
      'application/grpc+proto',
      'application/proto',
      'application/connect+proto',
      'Application/GRPC-Web; charset=x',
    ])
      expect(encodesBinary(contextWith(type)), type).toBe(true);
    for (const type of [
      'application/json',
      'application/connect+json',
      'application/grpc+json',
      'application/grpc-web+json',
      undefined,
    ])
      expect(encodesBinary(contextWith(type)), String(type)).toBe(false);
  });

  it('a call the direct gRPC path marks as binary is answered so without reading its request headers', () => {
    const contextValues = createContextValues().set(binaryCodecKey, true);
    const ctx = createHandlerContext({
      service: ConfigService,
      method: ConfigService.method.watchConfig,
      protocolName: 'grpc',
      requestMethod: 'POST',
      url: 'http://localhost/',
      contextValues,
    });
    Object.defineProperty(ctx, 'requestHeader', {
      get: () => {
        throw new Error('request headers built');
      },
    });
    expect(encodesBinary(ctx)).toBe(true);
  });
});
