import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import type { ConfigChange, ConfigRules } from '@k1s0/config-domain';
import {
  AppError,
  bearerSecurity,
  Counter,
  classifyError,
  envelope,
  errorEnvelopeSchema,
  errorResponses,
  Gauge,
  httpStatusOf,
  principalOf,
  type Registry,
  ROLE_ERRORS,
  type ZodTypeProvider,
} from '@k1s0/platform';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { WebSocket } from 'ws';
import type { AccessAudit, CallSite } from '../access-audit.js';
import { configErrorCodes } from '../error-codes.js';
import { updateJson } from '../rest/presenters.js';
import { configUpdateSchema } from '../rest/response-schemas.js';
import { configRoles } from '../roles.js';
import type { ConfigServerUseCases } from '../use-cases.js';
import { checkWatchRole, type WatchRequest, watchChanges } from '../watch/watch-changes.js';
import { updatesQuerySchema } from './updates-query.js';

export const UPDATES_PATH = '/ws/v1/configs/updates';

/** The subprotocol a browser names before its token: `Sec-WebSocket-Protocol: bearer, <token>`. */
export const BEARER_SUBPROTOCOL = 'bearer';

/**
 * Close codes of the feed. 1001/1011/1013 are RFC 6455's; the application's own (4000–4999) are
 * 4000 + the HTTP status the same error has on REST (SPEC §4), e.g. 4412 for
 * SYS_CONFIG_REVISION_COMPACTED (WatchConfig's FAILED_PRECONDITION). The close reason is the
 * error code.
 */
export const FEED_CLOSE = {
  /** Server shutting down: reconnect (to another instance) and resume from the last revision. */
  goingAway: 1001,
  internalError: 1011,
  /** Slow consumer (send buffer over the limit), or the feed was interrupted: reconnect and resume. */
  tryAgainLater: 1013,
  applicationBase: 4000,
} as const;

/** Clients send nothing on this feed; anything they do send is ignored, and kept small. */
const INBOUND_MAX_BYTES = 4 * 1024;
/** How long a closing handshake may take before ws drops the connection (ws default: 30 s). */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5_000;

export interface ConfigUpdatesOptions {
  useCases: ConfigServerUseCases;
  rules: ConfigRules;
  /** secret.read for the secrets a feed streams in plaintext. */
  audit: AccessAudit;
  /** `config_server.websocket` settings. */
  pingIntervalMs: number;
  maxBufferedBytes: number;
  drainTimeoutMs: number;
  /** Aborted when shutdown starts: every feed is closed with 1001. */
  shutdownSignal: AbortSignal;
  metrics?: { registry: Registry; prefix: string };
}

/**
 * `GET /ws/v1/configs/updates?namespaces=a,b&from_revision=N` (SPEC §8): WatchConfig for REST
 * consumers, over a WebSocket. The upgrade request goes through the normal Fastify lifecycle
 * (@fastify/websocket), so authentication (onRequest, 401), query validation (400) and the
 * WatchConfig role rule (preHandler, 403) answer with the SPEC §4 envelope as plain HTTP, before
 * any upgrade. After it, each text message is one change (ConfigUpdate JSON); the stream comes from
 * the same use case and change feed as gRPC WatchConfig (watchChanges).
 */
export function configUpdatesRoute(options: ConfigUpdatesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const { useCases, rules } = options;
    const metrics = feedMetrics(options.metrics);
    await app.register(websocket, {
      options: wsServerOptions(),
      // Default preClose closes without a code (1005); ours says "going away" and waits for the
      // closing handshakes (bounded by CLOSE_HANDSHAKE_TIMEOUT_MS).
      preClose(done) {
        for (const client of this.websocketServer.clients) closeGoingAway(client);
        this.websocketServer.close(() => done());
      },
      errorHandler(error, socket, request) {
        // A client vanishing mid-frame is routine; nothing to do but drop the connection.
        request.log.debug({ err: error }, 'websocket feed socket error');
        socket.terminate();
      },
    });

    endStrayUpgrades(app);

    const api = app.withTypeProvider<ZodTypeProvider>();
    api.route({
      method: 'GET',
      url: UPDATES_PATH,
      // The browser form of the token becomes the Authorization header, so the one REST
      // authentication hook decides for both forms.
      onRequest: [bearerFromSubprotocol, app.requireAuth(configRoles.watchConfig)],
      // The role depends on the (validated) query: all namespaces or a replay need sys_auditor.
      preHandler: async (request) => {
        checkWatchRole(feedCallSite(request), watchRequestOf(request.query));
      },
      schema: {
        tags: ['config'],
        operationId: 'watchConfigUpdates',
        summary: 'Live config changes over a WebSocket (WatchConfig for REST consumers)',
        description: [
          'Upgrade to a WebSocket. Authenticate with `Authorization: Bearer <token>`, or (browsers)',
          '`Sec-WebSocket-Protocol: bearer, <token>` — the server then selects the subprotocol `bearer`.',
          'Each text message is one change (ConfigUpdate), in commit order. `from_revision` first replays',
          'every later change, then continues live, with no gap and no duplicate. The server pings every',
          '30 s (configurable). Close codes: 1001 server shutting down (reconnect and resume), 1013 slow',
          'consumer or feed interrupted (reconnect and resume), 4412 SYS_CONFIG_REVISION_COMPACTED',
          '(history no longer kept: refetch, then watch live), 1011 internal error. Errors before the',
          'upgrade (401, 403, 400) are plain HTTP answers with the error envelope.',
        ].join(' '),
        security: bearerSecurity,
        querystring: updatesQuerySchema(rules),
        response: {
          101: configUpdateSchema.meta({
            description: 'Switching Protocols. The schema is that of each text message after the upgrade',
          }),
          426: {
            description: 'Not a WebSocket upgrade request (SYS_CONFIG_UPGRADE_REQUIRED)',
            content: { 'application/json': { schema: errorEnvelopeSchema } },
          },
          ...errorResponses(ROLE_ERRORS),
        },
      },
      // A plain GET (no upgrade) passed every check but cannot be served.
      handler: async (request, reply) => {
        const error = new AppError('validation', {
          code: 'UPGRADE_REQUIRED',
          message: 'このエンドポイントは WebSocket でのみ利用できます (Upgrade: websocket)',
        });
        return reply
          .code(426)
          .header('upgrade', 'websocket')
          .header('connection', 'Upgrade')
          .send(envelope(error, configErrorCodes, request.id));
      },
      wsHandler: (socket, request) => {
        const site = feedCallSite(request);
        const watch = watchRequestOf(request.query);
        serveFeed(socket, (signal) => watchChanges(useCases, options.audit, site, watch, signal), {
          ...options,
          metrics,
          log: request.log,
        });
      },
    });
  };
}

/**
 * With an 'upgrade' listener on the server, every request carrying `Upgrade:` reaches
 * @fastify/websocket, which routes it through Fastify over the raw socket. One that ends at another
 * route or at the 404 handler is answered as plain HTTP, but on a socket the HTTP server no longer
 * manages: nothing would ever close it, and it would hold up shutdown. End it once answered (a
 * successful upgrade never finishes that response: ws owns the socket from then on).
 */
function endStrayUpgrades(app: FastifyInstance): void {
  app.server.on('upgrade', (_request: IncomingMessage, socket: Duplex) => {
    // Node's link from a socket to the response being written on it (set by assignSocket).
    const response = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    response?.once('finish', () => socket.end());
  });
}

function feedCallSite(request: FastifyRequest): CallSite {
  return { principal: principalOf(request), operation: `GET ${UPDATES_PATH}`, protocol: 'websocket' };
}

function watchRequestOf(query: { namespaces: string[]; from_revision?: bigint | undefined }): WatchRequest {
  return { namespaces: query.namespaces, fromRevision: query.from_revision };
}

function wsServerOptions() {
  // Not an object literal at the call site: @types/ws does not list closeTimeout yet (ws ≥ 8.18 has it).
  const serverOptions = {
    maxPayload: INBOUND_MAX_BYTES,
    closeTimeout: CLOSE_HANDSHAKE_TIMEOUT_MS,
    // Select `bearer` when the client offered it (the browser form); never echo the token.
    handleProtocols: (protocols: Set<string>) =>
      protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false,
  };
  return serverOptions;
}

/**
 * Browsers cannot set headers on a WebSocket; they pass the token as the subprotocol after
 * `bearer` (`Sec-WebSocket-Protocol: bearer, <token>`). An Authorization header wins if present.
 */
const bearerFromSubprotocol: onRequestAsyncHookHandler = async (request: FastifyRequest) => {
  if (request.headers.authorization !== undefined) return;
  const offered = request.headers['sec-websocket-protocol'];
  if (offered === undefined) return;
  const protocols = offered.split(',').map((p) => p.trim());
  const at = protocols.indexOf(BEARER_SUBPROTOCOL);
  const token = at >= 0 ? protocols[at + 1] : undefined;
  if (token !== undefined && token !== '') request.headers.authorization = `Bearer ${token}`;
};

interface FeedMetrics {
  open: Gauge | undefined;
  slowConsumerCloses: Counter | undefined;
}

function feedMetrics(metrics: ConfigUpdatesOptions['metrics']): FeedMetrics {
  if (metrics === undefined) return { open: undefined, slowConsumerCloses: undefined };
  return {
    open: new Gauge({
      name: `${metrics.prefix}_ws_feeds_open`,
      help: 'WebSocket update feeds currently open on this instance',
      registers: [metrics.registry],
    }),
    slowConsumerCloses: new Counter({
      name: `${metrics.prefix}_ws_feed_slow_consumer_closes_total`,
      help: 'WebSocket update feeds closed with 1013 because the consumer did not keep up',
      registers: [metrics.registry],
    }),
  };
}

function closeGoingAway(socket: WebSocket): void {
  socket.close(FEED_CLOSE.goingAway, 'server shutting down');
}

interface FeedContext {
  pingIntervalMs: number;
  maxBufferedBytes: number;
  drainTimeoutMs: number;
  shutdownSignal: AbortSignal;
  metrics: FeedMetrics;
  log: FastifyRequest['log'];
}

/**
 * One open feed: pumps the change stream into text messages, pings, and closes with the right
 * code. Sends do not wait for the network while the socket keeps up; once more than
 * maxBufferedBytes are queued unsent, the feed waits for them to drain (this is also what paces a
 * long replay) and closes with 1013 if that takes longer than drainTimeoutMs. Live changes that
 * arrive meanwhile wait in the use case's bounded buffer.
 */
function serveFeed(
  socket: WebSocket,
  open: (signal: AbortSignal) => AsyncIterable<ConfigChange>,
  context: FeedContext,
): void {
  const { metrics, shutdownSignal } = context;
  const stop = new AbortController();
  let closing = false;
  const close = (code: number, reason: string) => {
    if (closing) return;
    closing = true;
    stop.abort();
    socket.close(code, reason);
  };

  metrics.open?.inc();
  const onShutdown = () => close(FEED_CLOSE.goingAway, 'server shutting down');
  shutdownSignal.addEventListener('abort', onShutdown, { once: true });

  // A ping frame every interval keeps proxies from idling the connection out; a peer that has not
  // answered the previous one by the next is gone (ws answers pings itself on the client side).
  let awaitingPong = false;
  const pinger = setInterval(() => {
    if (awaitingPong) {
      context.log.debug('websocket feed peer did not answer a ping; dropping it');
      socket.terminate();
      return;
    }
    awaitingPong = true;
    socket.ping();
  }, context.pingIntervalMs);
  socket.on('pong', () => {
    awaitingPong = false;
  });

  socket.once('close', () => {
    closing = true;
    stop.abort();
    clearInterval(pinger);
    shutdownSignal.removeEventListener('abort', onShutdown);
    metrics.open?.dec();
  });
  if (shutdownSignal.aborted) {
    onShutdown();
    return;
  }

  void (async () => {
    try {
      for await (const change of open(stop.signal)) {
        if (closing) break;
        const written = sendText(socket, messageFor(change));
        if (socket.bufferedAmount > context.maxBufferedBytes) {
          const drained = await within(written, context.drainTimeoutMs);
          if (closing) break;
          if (!drained) {
            metrics.slowConsumerCloses?.inc();
            close(FEED_CLOSE.tryAgainLater, 'slow consumer: send buffer full');
            break;
          }
        }
      }
    } catch (error) {
      if (closing) return;
      const { code, reason, internal } = closeFor(error);
      if (internal) context.log.error({ err: error }, 'websocket feed failed');
      close(code, reason);
    }
  })();
}

/** The feed hands the same change object to every open stream: serialise it once. */
const messages = new WeakMap<ConfigChange, string>();
function messageFor(change: ConfigChange): string {
  let text = messages.get(change);
  if (text === undefined) {
    text = JSON.stringify(updateJson(change));
    messages.set(change, text);
  }
  return text;
}

/** Resolves once the message has been handed to the OS (or the socket failed). */
function sendText(socket: WebSocket, text: string): Promise<void> {
  return new Promise((resolve) => socket.send(text, () => resolve()));
}

/** true if `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The close code and reason for an error the stream ended with (FEED_CLOSE). */
export function closeFor(error: unknown): { code: number; reason: string; internal: boolean } {
  const appError = classifyError(error, configErrorCodes);
  const reason = `${configErrorCodes.prefix}${appError.code}`;
  switch (appError.kind) {
    case 'unavailable':
      return { code: FEED_CLOSE.tryAgainLater, reason, internal: false };
    case 'internal':
      return { code: FEED_CLOSE.internalError, reason, internal: true };
    default:
      return { code: FEED_CLOSE.applicationBase + httpStatusOf[appError.kind], reason, internal: false };
  }
}
