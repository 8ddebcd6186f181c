import { type Server as HttpServer, STATUS_CODES } from 'node:http';
import type { Http2Server, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Server as NetServer, type Socket } from 'node:net';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
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
import { withIncomingTrace } from '../observability/tracing.js';
import { hookedStream } from '../streams/stream-hooks.js';
import { errorInterceptor, type OnRefused, reportRefusal } from './connect-errors.js';
import { type ConnectAuthenticate, connectGate, connectRequestGate } from './connect-gate.js';
import { classifyError, type ErrorCodes, envelope, statusOf } from './error-envelope.js';
import { GrpcDirectPath } from './grpc-direct-path.js';
import { type ReadinessCheck, readinessReport } from './readiness.js';
import { requestIdFor } from './request-id.js';
import { lazyRequestLogger } from './request-logger.js';
import { createStreamLimiter, type StreamLimiter } from './stream-limits.js';

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
  /**
   * Told of every permission_denied answered to an admitted caller (use-case scope checks,
   * per-request role rules), on REST and gRPC alike: the audit trail's access.denied.
   */
  onRefused?: OnRefused | undefined;
  /** Connect/gRPC services, served on both ports. */
  connect: {
    routes: (router: ConnectRouter) => void;
    interceptors: Interceptor[];
    /**
     * Authenticates a call from its headers before its body is read (both ports); without it
     * only the interceptors check, after Connect has buffered the message.
     */
    authenticate?: ConnectAuthenticate;
  };
}

export type GrpcServer = FastifyInstance<Http2Server, Http2ServerRequest, Http2ServerResponse>;

export interface ServiceRuntime {
  rest: FastifyInstance;
  grpc: GrpcServer;
  /** Aborted when shutdown starts: streams end on it. */
  shutdownSignal: AbortSignal;
  /** Caps on open server streams (per caller, total). */
  streams: StreamLimiter;
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
  // Draining starts first (readiness 503, health NOT_SERVING, `Connection: close` on answers);
  // `shutdown` aborts once the listeners stop accepting, ending streams with UNAVAILABLE.
  const draining = new AbortController();
  const shutdown = new AbortController();
  const streams = createStreamLimiter({
    perCaller: config.grpc.max_streams_per_caller,
    total: config.grpc.max_streams_total,
    heapFraction: config.grpc.max_streams_heap_fraction,
  });
  const interceptors = [
    errorInterceptor(codes, logger, options.onRefused),
    unavailableOnShutdown(shutdown.signal),
    ...options.connect.interceptors,
    streams.interceptor,
  ];
  // Unary and server-streaming gRPC calls on the gRPC port skip Connect's per-call and
  // per-message pipeline (grpc-direct-path.ts).
  const directPath = config.grpc.direct_path
    ? new GrpcDirectPath({
        interceptors,
        authenticate: options.connect.authenticate,
        codes,
        logger,
        metrics,
        shutdownSignal: shutdown.signal,
        readMaxBytes: config.grpc.max_recv_msg_size,
        compressMinBytes: RESPONSE_COMPRESS_MIN_BYTES,
        bodyTimeoutMs: config.server.request_timeout,
      })
    : undefined;
  const connectOptions = {
    // Health and reflection after the app's services, so they describe them (src/discovery).
    routes: (router: ConnectRouter) => {
      options.connect.routes(directPath ? directPath.record(router) : router);
      registerGrpcDiscovery(router, { readiness: options.readiness, shutdownSignal: draining.signal });
    },
    interceptors,
    shutdownSignal: shutdown.signal,
    ...(options.connect.authenticate
      ? { requestGate: connectRequestGate(options.connect.authenticate, codes, logger) }
      : {}),
    readMaxBytes: config.grpc.max_recv_msg_size,
    shutdownTimeoutMs: config.server.shutdown_timeout,
    // Compressed requests are still accepted, but responses go uncompressed unless huge: between
    // services gzip cost more CPU than the bytes it saves (a ReadEvents page is tens of KiB).
    compressMinBytes: RESPONSE_COMPRESS_MIN_BYTES,
  };
  const registerConnect = async (app: FastifyInstance) => {
    const { authenticate } = options.connect;
    await app.register(async (scope) => {
      // In front of the plugin's routes only: REST routes authenticate per route (requireAuth).
      if (authenticate) {
        scope.addHook(
          'onRequest',
          connectGate({ authenticate, codes, logger, bodyTimeoutMs: config.server.request_timeout }),
        );
      }
      await scope.register(fastifyConnectPlugin as never, connectOptions);
    });
  };

  const { server: limits } = config;
  const rest = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: quietRequests(),
    childLoggerFactory: lazyRequestLogger,
    // Path parameters carry ids up to 255 characters (stream ids, config keys); find-my-way's
    // default of 100 would answer longer ones with a 404 before any route runs.
    routerOptions: { maxParamLength: 1024 },
    bodyLimit: config.server.body_limit_bytes,
    genReqId: requestIdFor,
    // Closing is ours (drain below): Fastify's would drop idle keep-alive sockets a client may be
    // writing its next request to (a reset), and answer requests during close with 503.
    forceCloseConnections: false,
    return503OnClosing: false,
    requestTimeout: limits.request_timeout,
    keepAliveTimeout: limits.keep_alive_timeout,
    connectionTimeout: limits.connection_timeout,
    http: {
      headersTimeout: Math.min(limits.headers_timeout, limits.request_timeout || limits.headers_timeout),
      requestTimeout: limits.request_timeout,
      connectionsCheckingInterval: limits.timeout_check_interval,
    },
    // Node's HTTP parser answers malformed requests, oversized headers and timeouts itself.
    clientErrorHandler: (error, socket) => writeClientError(error, socket, codes),
    frameworkErrors: (_error, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const bad = new AppError('validation', {
        code: codes.validation,
        message: codes.validationMessage,
        details: [{ field: 'url', message: 'malformed URL (percent-encoding or path too long)' }],
      });
      reply.header('x-request-id', request.id);
      return reply.code(400).send(envelope(bad, codes, request.id));
    },
  });
  instrument(rest, options, draining.signal);
  await registerOpenApi(rest, { ...options.openapi, codes });

  rest.get('/healthz', { schema: operationsRouteSchemas.healthz }, async () => ({ status: 'ok' }));
  rest.get('/readyz', { schema: operationsRouteSchemas.readyz }, async (_request, reply) => {
    const { ready, checks, failures } = await readinessReport(options.readiness, draining.signal);
    // The reasons go to the log, never into the public answer.
    if (!ready) logger.warn({ failures }, 'not ready');
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
  await registerConnect(rest);

  const grpc = Fastify({
    http2: true,
    routerOptions: { maxParamLength: 1024 },
    loggerInstance: logger as FastifyBaseLogger,
    logController: quietRequests(),
    childLoggerFactory: lazyRequestLogger,
    genReqId: requestIdFor,
    forceCloseConnections: true,
    // Fastify closes (GOAWAY) a session without frames for this long; 0 would be Node's "never".
    http2SessionTimeout: config.grpc.idle_timeout,
  });
  // SETTINGS_MAX_CONCURRENT_STREAMS on every new connection: a client opens at most this many at once.
  grpc.server.updateSettings({ maxConcurrentStreams: config.grpc.max_concurrent_streams });
  directPath?.install(grpc.server);
  instrument(grpc as unknown as FastifyInstance, options, draining.signal);
  await registerConnect(grpc as unknown as FastifyInstance);

  let closing: Promise<void> | undefined;
  return {
    rest,
    grpc,
    shutdownSignal: shutdown.signal,
    streams,
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
    close() {
      closing ??= drain({
        rest,
        grpc,
        draining,
        shutdown,
        preStopDelayMs: config.server.pre_stop_delay,
        // Half the budget for connections to finish on their own; the rest for the app's stop.
        drainTimeoutMs: Math.floor(config.server.shutdown_timeout / 2),
      });
      return closing;
    },
  };
}

interface DrainParts {
  rest: FastifyInstance;
  grpc: GrpcServer;
  draining: AbortController;
  shutdown: AbortController;
  preStopDelayMs: number;
  drainTimeoutMs: number;
}

/**
 * SIGTERM drain (SPEC §7): readiness 503 first (and for pre_stop_delay only that), then the
 * listeners stop accepting and streams end UNAVAILABLE; in-flight requests finish and each
 * keep-alive connection closes after its current answer (`Connection: close`, see instrument).
 * Idle keep-alive sockets are not cut at once (a client may be writing to one: a reset); they
 * close on their next answer or their keep-alive timeout. Whatever is left after drainTimeoutMs
 * is closed.
 */
async function drain(parts: DrainParts): Promise<void> {
  const { rest, grpc } = parts;
  parts.draining.abort(
    new AppError('unavailable', { code: 'UNAVAILABLE', message: 'server is shutting down' }),
  );
  if (parts.preStopDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, parts.preStopDelayMs));
  const restServer = rest.server as HttpServer;
  const grpcServer = grpc.server as Http2Server & { closeHttp2Sessions?: () => void };
  // net.Server's close stops accepting without http.Server's closeIdleConnections.
  NetServer.prototype.close.call(restServer);
  NetServer.prototype.close.call(grpcServer);
  parts.shutdown.abort(
    new AppError('unavailable', { code: 'UNAVAILABLE', message: 'server is shutting down' }),
  );
  // GOAWAY: open HTTP/2 streams may finish, no new ones start.
  grpcServer.closeHttp2Sessions?.();
  const deadline = Date.now() + parts.drainTimeoutMs;
  while (
    Date.now() < deadline &&
    (await connectionCount(restServer)) + (await connectionCount(grpcServer)) > 0
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  restServer.closeAllConnections();
  await Promise.all([rest.close(), grpc.close()]);
}

function connectionCount(server: NetServer): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}

/** Server streams that end because the server is shutting down end UNAVAILABLE, not OK. */
function unavailableOnShutdown(signal: AbortSignal): Interceptor {
  const done = () => {
    if (signal.aborted) {
      throw new ConnectError('server is shutting down; reconnect to another instance', Code.Unavailable);
    }
  };
  return (next) => async (req) => {
    const res = await next(req);
    return res.stream ? { ...res, message: hookedStream(res.message, { done }) } : res;
  };
}

/**
 * Node's HTTP parser rejects some requests before Fastify sees them (broken request line, bad
 * header, headers over the size limit, request or headers timeout). They get the envelope too,
 * then the connection is closed: after a parse error its byte stream cannot be trusted.
 */
function writeClientError(error: Error & { code?: string }, socket: Socket, codes: ErrorCodes): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const appError =
    status === 408
      ? new AppError('request_timeout', { code: 'REQUEST_TIMEOUT', message: 'request not received in time' })
      : new AppError('validation', {
          code: codes.validation,
          message: codes.validationMessage,
          details: [
            status === 431
              ? { field: 'headers', message: 'request headers too large' }
              : { field: 'request', message: 'malformed HTTP request' },
          ],
        });
  // A response already under way (e.g. a stream) cannot get a second status line.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !current?.headersSent) {
    const requestId = requestIdFor({ headers: {} });
    const body = JSON.stringify(envelope(appError, codes, requestId));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
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
function instrument(app: FastifyInstance, options: ServiceOptions, draining: AbortSignal): void {
  const { codes, metrics, logger } = options;
  // Callback hooks, not async ones: an async hook costs every request a promise and a microtask
  // turn, and these run for every request of both services.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // After body parsing, so the handler (REST route, Connect or gRPC call) runs inside the
  // caller's trace: Fastify calls it synchronously from `done`.
  app.addHook('preHandler', (request, _reply, done) => withIncomingTrace(request.headers, done));
  app.addHook('onSend', (request, reply, payload, done) => {
    // Draining: the client must not reuse this connection (HTTP/1.1 only; HTTP/2 got GOAWAY).
    // An error answered before the body was read closes too: its unread rest is not waited for.
    if (request.raw.httpVersionMajor === 1 && (draining.aborted || !request.raw.complete)) {
      reply.header('connection', 'close');
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const appError = classifyError(error, codes);
    reportRefusal(options.onRefused, appError, request.principal, {
      operation: `${request.method} ${request.routeOptions.url ?? request.url}`,
      protocol: 'rest',
    });
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
