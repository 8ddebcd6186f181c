import type { Http2Server, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { PlatformConfig } from '../config/index.js';
import {
  type OpenApiOptions,
  operationsRouteSchemas,
  registerGrpcDiscovery,
  registerOpenApi,
} from '../discovery/index.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import type { HttpMetrics } from '../observability/metrics.js';
import { errorInterceptor } from './connect-errors.js';
import { classifyError, type ErrorCodes, envelope, statusOf } from './error-envelope.js';
import { type ReadinessCheck, readinessReport } from './readiness.js';
import { requestIdFor } from './request-id.js';

export interface ServiceOptions {
  config: PlatformConfig;
  codes: ErrorCodes;
  logger: Logger;
  metrics: HttpMetrics;
  readiness: Record<string, ReadinessCheck>;
  /** Title etc. of the REST API's OpenAPI document (`GET /openapi.json`). */
  openapi: Omit<OpenApiOptions, 'codes'>;
  /** Registers the REST routes; runs inside the REST server's root context. */
  rest: (app: FastifyInstance) => Promise<void> | void;
  /** Connect/gRPC services, served on both ports. */
  connect: {
    routes: (router: ConnectRouter) => void;
    interceptors: Interceptor[];
  };
}

export type GrpcServer = FastifyInstance<Http2Server, Http2ServerRequest, Http2ServerResponse>;

export interface ServiceRuntime {
  rest: FastifyInstance;
  grpc: GrpcServer;
  /** Aborted when shutdown starts: streams end on it. */
  shutdownSignal: AbortSignal;
  listen(): Promise<{ restPort: number; grpcPort: number }>;
  /** Stops accepting, lets in-flight requests finish (bounded by shutdown_timeout), ends streams. */
  close(): Promise<void>;
}

/** Per-request log lines are off (metrics carry that); errors are logged by the error handler. */
function quietRequests(): LogController {
  return new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' });
}

/** Connect responses below this size are sent uncompressed (Connect's default is 1 KiB). */
const RESPONSE_COMPRESS_MIN_BYTES = 4 * 1024 * 1024;

export async function createServiceRuntime(options: ServiceOptions): Promise<ServiceRuntime> {
  const { config, codes, logger, metrics } = options;
  const shutdown = new AbortController();
  const connectOptions = {
    // Health and reflection after the app's services, so they describe them (src/discovery).
    routes: (router: ConnectRouter) => {
      options.connect.routes(router);
      registerGrpcDiscovery(router, { readiness: options.readiness, shutdownSignal: shutdown.signal });
    },
    interceptors: [errorInterceptor(codes, logger), ...options.connect.interceptors],
    shutdownSignal: shutdown.signal,
    readMaxBytes: config.grpc.max_recv_msg_size,
    shutdownTimeoutMs: config.server.shutdown_timeout,
    // Compressed requests are still accepted, but responses go uncompressed unless huge: between
    // services gzip cost more CPU than the bytes it saves (a ReadEvents page is tens of KiB).
    compressMinBytes: RESPONSE_COMPRESS_MIN_BYTES,
  };

  const rest = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: quietRequests(),
    // Path parameters carry ids up to 255 characters (stream ids, config keys); find-my-way's
    // default of 100 would answer longer ones with a 404 before any route runs.
    routerOptions: { maxParamLength: 1024 },
    bodyLimit: config.server.body_limit_bytes,
    genReqId: requestIdFor,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  instrument(rest, options);
  await registerOpenApi(rest, { ...options.openapi, codes });

  rest.get('/healthz', { schema: operationsRouteSchemas.healthz }, async () => ({ status: 'ok' }));
  rest.get('/readyz', { schema: operationsRouteSchemas.readyz }, async (_request, reply) => {
    const { ready, checks } = await readinessReport(options.readiness, shutdown.signal);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  rest.get('/metrics', { schema: operationsRouteSchemas.metrics }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await rest.register(async (scope) => {
    // In the routes' scope only: the Connect plugin overrides application/json in its own scope,
    // which Fastify allows only over the built-in parser.
    acceptEmptyJsonBodies(scope);
    await options.rest(scope);
  });
  await rest.register(fastifyConnectPlugin, connectOptions);

  const grpc = Fastify({
    http2: true,
    routerOptions: { maxParamLength: 1024 },
    loggerInstance: logger as FastifyBaseLogger,
    logController: quietRequests(),
    genReqId: requestIdFor,
    forceCloseConnections: true,
  });
  instrument(grpc as unknown as FastifyInstance, options);
  await grpc.register(fastifyConnectPlugin as never, connectOptions);

  return {
    rest,
    grpc,
    shutdownSignal: shutdown.signal,
    async listen() {
      await rest.listen({ host: config.server.host, port: config.server.port });
      await grpc.listen({ host: config.server.host, port: config.grpc.port });
      const port = (app: { server: { address(): unknown } }) => {
        const address = app.server.address();
        return typeof address === 'object' && address !== null && 'port' in address
          ? Number(address.port)
          : 0;
      };
      return { restPort: port(rest), grpcPort: port(grpc) };
    },
    async close() {
      shutdown.abort(
        new AppError('unavailable', { code: 'UNAVAILABLE', message: 'server is shutting down' }),
      );
      await Promise.all([rest.close(), grpc.close()]);
    },
  };
}

/**
 * `Content-Type: application/json` with an empty body is no body, not malformed JSON: clients
 * commonly send that header on every request, a DELETE included. Anything else is parsed by
 * Fastify's own JSON parser (prototype-poisoning checks and all).
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString(); // a string: parseAs 'string'
    if (text === '') done(null, undefined);
    else parseJson(request, text, done);
  });
}

/** Request id header, error envelope, 404 envelope and RED metrics on a Fastify instance. */
function instrument(app: FastifyInstance, options: ServiceOptions): void {
  const { codes, metrics, logger } = options;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const appError = classifyError(error, codes);
    if (appError.kind === 'internal' || appError.kind === 'unavailable') {
      logger.error({ err: error, request_id: request.id }, 'request failed');
    }
    return reply.code(statusOf(appError)).send(envelope(appError, codes, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const notFound = new AppError('not_found', {
      code: 'NOT_FOUND',
      message: `route not found: ${request.method} ${request.url}`,
    });
    return reply.code(404).send(envelope(notFound, codes, request.id));
  });
}
