import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { waitFor } from '@k1s0/platform/testing';
import { ConfigService, type configV1 } from '@k1s0/proto';
import { type ConfigServer, metricValue } from './service.js';

export type ConfigClient = Client<typeof ConfigService>;

/** gRPC (HTTP/2) client on the gRPC port. */
export function grpcClient(server: ConfigServer): ConfigClient {
  return createClient(ConfigService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }));
}

/** Connect-protocol client over HTTP/1.1 on the REST port. */
export function connectClient(server: ConfigServer): ConfigClient {
  return createClient(
    ConfigService,
    createConnectTransport({ baseUrl: `http://127.0.0.1:${server.restPort}`, httpVersion: '1.1' }),
  );
}

export const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

export const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
export const fromJson = (bytes: Uint8Array): unknown =>
  bytes.length === 0 ? undefined : JSON.parse(new TextDecoder().decode(bytes));

export interface Collected {
  events: configV1.ConfigChangeEvent[];
  /** Resolves when the stream ends: undefined when it ended cleanly, else the error. */
  done: Promise<unknown>;
}

/** Reads a server stream in the background. */
export function collect(stream: AsyncIterable<configV1.ConfigChangeEvent>): Collected {
  const events: configV1.ConfigChangeEvent[] = [];
  const done = (async () => {
    try {
      for await (const event of stream) events.push(event);
      return undefined;
    } catch (error) {
      return error;
    }
  })();
  return { events, done };
}

/** Waits until `server` has `count` change-feed subscribers (a watch is open before we write). */
export async function waitForSubscribers(server: ConfigServer, count: number): Promise<void> {
  await waitFor(
    `${count} change-feed subscribers`,
    async () => (await metricValue(server, 'config_server_change_feed_subscribers')) === count,
  );
}
