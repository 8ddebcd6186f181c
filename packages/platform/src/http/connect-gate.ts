import type { ServerHttp2Stream } from 'node:http2';
import type { ConnectError, HandlerContext } from '@connectrpc/connect';
import { codeToHttpStatus, errorToJson } from '@connectrpc/connect/protocol-connect';
import { setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { principalKey } from '../auth/connect-auth.js';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../observability/logger.js';
import { toConnectError } from './connect-errors.js';
import type { ErrorCodes } from './error-envelope.js';
import { armHttp2BodyTimeout, cutUnreadBodyAfterGrace } from './http2-body.js';

/**
 * Authenticates a Connect/gRPC call from its headers alone: `/<service>/<Method>` and the
 * `authorization` header. Throws (an AppError) when the call must not proceed; returns the
 * caller (undefined for a public method), which the RPC gates hand to the auth interceptor.
 */
export type ConnectAuthenticate = (
  serviceTypeName: string,
  methodName: string,
  authorization: string | undefined,
  // A remembered token is admitted synchronously (no promise on the hot path).
) => Principal | undefined | Promise<Principal | undefined>;

export interface ConnectGateOptions {
  authenticate: ConnectAuthenticate;
  codes: ErrorCodes;
  logger?: Logger;
  /** The request body must have arrived within this (ms; 0 = no limit). */
  bodyTimeoutMs: number;
}

/**
 * onRequest hook in front of the Connect plugin's routes, on both ports. It runs before the
 * plugin reads the body, which Connect interceptors cannot do: they see the parsed message, so an
 * interceptor-only check lets an anonymous caller make the server buffer up to
 * grpc.max_recv_msg_size per call. A refusal is answered in the caller's protocol (gRPC,
 * gRPC-web, Connect unary or streaming) and the unread body is not waited for: HTTP/1.1 gets
 * `Connection: close`, HTTP/2 a RST_STREAM(NO_ERROR) once the answer is out.
 */
export function connectGate(options: ConnectGateOptions): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const http2 = (request.raw as { stream?: ServerHttp2Stream }).stream;
    if (http2 !== undefined) {
      armHttp2BodyTimeout(http2, options.bodyTimeoutMs, () =>
        request.log.warn({ request_id: request.id }, 'request body not received in time; stream reset'),
      );
      // HTTP/2: Connect's own requestGate (connectRequestGate) refuses before the body is read and
      // answers in the protocol's exact shape. A body still arriving after the answer is cut.
      reply.raw.once('finish', () => cutUnreadBodyAfterGrace(http2));
      return;
    }
    const [, service = '', method = ''] = /^\/([^/]+)\/([^/?]+)/.exec(request.url) ?? [];
    try {
      await options.authenticate(service, method, request.headers.authorization);
    } catch (error) {
      writeConnectError(request, reply, toConnectError(error, options.codes, options.logger));
      return reply;
    }
  };
}

/** Connect's requestGate (HTTP/2 port and HTTP/2 clients): authentication from the headers. */
export function connectRequestGate(
  authenticate: ConnectAuthenticate,
  codes: ErrorCodes,
  logger?: Logger,
): (context: HandlerContext) => Promise<void> {
  return async (context) => {
    try {
      const principal = await authenticate(
        context.service.typeName,
        context.method.name,
        context.requestHeader.get('authorization') ?? undefined,
      );
      if (principal !== undefined) context.values.set(principalKey, principal);
    } catch (error) {
      throw toConnectError(error, codes, logger);
    }
  };
}

const GRPC = /^application\/grpc(?:\+|;|$)/i;
const GRPC_WEB = /^application\/grpc-web/i;
const CONNECT_STREAM = /^application\/connect\+/i;
/** Connect end-stream envelope flag (protocol-connect endStreamFlag). */
const END_STREAM_FLAG = 0b00000010;

/** Answers `error` in the protocol the request speaks, without touching its body. */
export function writeConnectError(request: FastifyRequest, reply: FastifyReply, error: ConnectError): void {
  const contentType = request.headers['content-type'] ?? '';
  const http2 = (request.raw as { stream?: ServerHttp2Stream }).stream;
  if (http2 === undefined && !request.raw.complete) reply.header('connection', 'close');
  for (const [name, value] of error.metadata) reply.header(name, value);
  if (GRPC_WEB.test(contentType) || GRPC.test(contentType)) {
    // Trailers-only response: the status travels in the headers.
    const status = setTrailerStatus(new Headers(), error);
    for (const [name, value] of status) reply.header(name, value);
    reply.code(200).header('content-type', contentType.split(';')[0]).send();
    return;
  }
  const errorJson = errorToJson(error, undefined);
  if (CONNECT_STREAM.test(contentType)) {
    const data = Buffer.from(JSON.stringify({ error: errorJson }));
    const frame = Buffer.alloc(5 + data.length);
    frame.writeUInt8(END_STREAM_FLAG, 0);
    frame.writeUInt32BE(data.length, 1);
    data.copy(frame, 5);
    reply.code(200).header('content-type', contentType.split(';')[0]).send(frame);
    return;
  }
  reply
    .code(codeToHttpStatus(error.code))
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(errorJson)));
}
