import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { type TestRole, tokenFor } from '@k1s0/platform/testing';
import { EventStoreService } from '@k1s0/proto';

export type EventStoreClient = Client<typeof EventStoreService>;

/** Official gRPC (HTTP/2) client on the gRPC port. */
export function grpcClient(baseUrl: string): EventStoreClient {
  return createClient(EventStoreService, createGrpcTransport({ baseUrl }));
}

/** Connect protocol over HTTP/1.1 on the REST port. */
export function connectClient(baseUrl: string): EventStoreClient {
  return createClient(EventStoreService, createConnectTransport({ baseUrl, httpVersion: '1.1' }));
}

export function auth(role: TestRole): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${tokenFor(role)}` } };
}

export const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const decodeJson = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));
