import type { DescService } from '@bufbuild/protobuf';
import { type Client, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';

/**
 * `connections` gRPC clients of one service, each on its own HTTP/2 session (a transport keeps
 * one session), all sending the bearer token like a production caller.
 */
export function grpcClients<S extends DescService>(
  service: S,
  baseUrl: string,
  token: string,
  connections: number,
): Client<S>[] {
  const bearer: Interceptor = (next) => (request) => {
    request.header.set('authorization', `Bearer ${token}`);
    return next(request);
  };
  return Array.from({ length: connections }, () =>
    createClient(service, createGrpcTransport({ baseUrl, interceptors: [bearer] })),
  );
}
