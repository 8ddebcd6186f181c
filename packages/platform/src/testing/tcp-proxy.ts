/**
 * A TCP proxy for fault tests: put it between a service and PostgreSQL (or anything) and cut the
 * line. `cut()` resets every open connection and refuses new ones (a database that went away);
 * `blackhole()` keeps connections open but forwards nothing (a partition: packets dropped);
 * `restore()` forwards again for new connections.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export type TcpProxyMode = 'forward' | 'cut' | 'blackhole';

export interface TcpProxy {
  /** 127.0.0.1 port the proxy listens on. */
  readonly port: number;
  readonly mode: TcpProxyMode;
  cut(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: TcpProxyMode = 'forward';
  const pairs = new Set<[Socket, Socket | undefined]>();

  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') {
      // Accept and hold: nothing is forwarded, nothing answered, nothing closed.
      const pair: [Socket, Socket | undefined] = [client, undefined];
      pairs.add(pair);
      client.on('close', () => pairs.delete(pair));
      client.pause();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    const pair: [Socket, Socket | undefined] = [client, upstream];
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp-proxy: no port');

  return {
    port: address.port,
    get mode() {
      return mode;
    },
    cut() {
      mode = 'cut';
      for (const [client, upstream] of pairs) {
        upstream?.destroy();
        client.resetAndDestroy();
      }
      pairs.clear();
    },
    blackhole() {
      mode = 'blackhole';
      // Open connections stay open but stop carrying data, both ways.
      for (const [client, upstream] of pairs) {
        client.unpipe();
        upstream?.unpipe();
        client.pause();
        upstream?.pause();
      }
    },
    restore() {
      mode = 'forward';
      // Blackholed connections are dead to their users anyway; end them so pools reconnect.
      for (const [client, upstream] of pairs) {
        upstream?.destroy();
        client.destroy();
      }
      pairs.clear();
    },
    close() {
      for (const [client, upstream] of pairs) {
        upstream?.destroy();
        client.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
