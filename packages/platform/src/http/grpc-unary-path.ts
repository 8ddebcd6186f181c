import {
  type Http2Server,
  constants as http2Constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { performance } from 'node:perf_hooks';
import {
  create,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  isMessage,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createContextValues,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import { compressedFlag, compressionNegotiate } from '@connectrpc/connect/protocol';
import { contentTypeProto, parseTimeout, setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';
import type { Logger } from '../observability/logger.js';
import type { HttpMetrics } from '../observability/metrics.js';
import { withIncomingTrace } from '../observability/tracing.js';
import { toConnectError } from './connect-errors.js';
import type { ConnectAuthenticate } from './connect-gate.js';
import type { ErrorCodes } from './error-envelope.js';
import { requestIdFor } from './request-id.js';

/**
 * A direct HTTP/2 path for unary gRPC calls (issue 13). Connect serves a unary call through its
 * universal-handler pipeline — a chain of down-levelled async generators, a linked AbortController
 * aborted (with a DOMException) at the end of every call, Fastify's route and hook chain — which
 * cost about 5× the CPU of the REST route for the same use case (GetConfig from the cache: 1,100
 * against 10,400 req/s). This path answers the same calls from the HTTP/2 `stream` event:
 * the same gate (authentication from the headers before the body is read), the same
 * interceptors (roles, error model, shutdown) around the same service implementation, the same
 * protobuf codec, and the same wire answer as Connect's gRPC protocol: headers, one message,
 * trailers; errors as Connect's setTrailerStatus writes them.
 *
 * It takes only what it answers exactly as Connect would: POST of `application/grpc` or
 * `application/grpc+proto` with an uncompressed request (no grpc-encoding, or identity), to a
 * unary method registered through `record`. Everything else — gRPC-Web, the Connect protocol,
 * JSON, compressed requests, streams, health and reflection — goes on to Fastify and Connect.
 */

/** One unary method served here: its descriptors and the implementation registered with Connect. */
interface UnaryMethod {
  service: DescService;
  method: DescMethodUnary;
  impl: (request: MessageShape<DescMethodUnary['input']>, context: HandlerContext) => unknown;
  /** `/<service>/<Method>`: the :path, the metrics route label and the audit operation. */
  path: string;
}

export interface GrpcUnaryPathOptions {
  /** The Connect interceptors, in Connect's order (the first one is outermost). */
  interceptors: Interceptor[];
  /** Connect's requestGate equivalent: authentication from the headers before the body is read. */
  authenticate?: ConnectAuthenticate;
  codes: ErrorCodes;
  logger: Logger;
  metrics: HttpMetrics;
  /** Largest request message (grpc.max_recv_msg_size), as Connect's readMaxBytes. */
  readMaxBytes: number;
  /** Responses from this size are compressed when the caller accepts it (Connect's compressMinBytes). */
  compressMinBytes: number;
  /** The request body must have arrived within this (ms; 0 = no limit), as on Connect's routes. */
  bodyTimeoutMs: number;
}

/** As Connect's Node adapters: what a caller's grpc-accept-encoding may pick for the response. */
const ACCEPT_COMPRESSION = [compressionGzip, compressionBrotli];
/** How long an unread body may keep arriving after the answer was sent (as connect-gate). */
const UNREAD_BODY_GRACE_MS = 1_000;
const ENVELOPE_HEADER_BYTES = 5;

type StreamListener = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

export class GrpcUnaryPath {
  private readonly methods = new Map<string, UnaryMethod>();

  constructor(private readonly options: GrpcUnaryPathOptions) {}

  /**
   * A router for the app's `routes(router)`: each service goes to Connect as before, and its
   * unary methods are also kept here. Services registered with their own handler options (their
   * own limits or interceptors) stay with Connect only.
   */
  record(router: ConnectRouter): ConnectRouter {
    const recording: ConnectRouter = {
      get handlers() {
        return router.handlers;
      },
      service: (service, implementation, options) => {
        if (options === undefined) this.add(service, implementation as Record<string, unknown>);
        router.service(service, implementation, options);
        return recording;
      },
      rpc: (method, impl, options) => {
        router.rpc(method, impl, options);
        return recording;
      },
    };
    return recording;
  }

  /** Serves the recorded methods ahead of the server's own (Fastify's) `stream` handling. */
  install(server: Http2Server): void {
    const others = server.listeners('stream') as StreamListener[];
    server.removeAllListeners('stream');
    server.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]) => {
        if (this.take(stream, headers)) return;
        for (const listener of others) listener.call(server, stream, headers, flags, raw);
      },
    );
  }

  private add(service: DescService, implementation: Record<string, unknown>): void {
    for (const method of service.methods) {
      if (method.methodKind !== 'unary') continue;
      const impl = implementation[method.localName];
      // An unimplemented method keeps Connect's UNIMPLEMENTED answer.
      if (typeof impl !== 'function') continue;
      const path = `/${service.typeName}/${method.name}`;
      this.methods.set(path, {
        service,
        method: method as DescMethodUnary,
        impl: impl.bind(implementation),
        path,
      });
    }
  }

  /** Starts serving `stream` when it is a call this path answers exactly as Connect; else false. */
  private take(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
    if (headers[':method'] !== 'POST') return false;
    const target = this.methods.get(headers[':path'] ?? '');
    if (target === undefined) return false;
    const type = headers['content-type'];
    if (type !== 'application/grpc' && type !== 'application/grpc+proto') return false;
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    void this.serve(stream, headers, target);
    return true;
  }

  private async serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, target: UnaryMethod) {
    const started = performance.now();
    const { options } = this;
    // A reset or broken stream must not become an uncaught 'error' event; its end is seen on 'close'.
    stream.on('error', () => {});
    const aborted = new LazyAbort();
    let responded = false;
    stream.once('close', () => {
      if (!responded) aborted.abort(new ConnectError('the client went away', Code.Canceled));
      options.metrics.requests.inc(labelsOf(target));
      options.metrics.duration.observe(labelsOf(target), (performance.now() - started) / 1000);
    });
    const compression = compressionNegotiate(
      ACCEPT_COMPRESSION,
      null,
      headerValue(headers['grpc-accept-encoding']),
      'grpc-accept-encoding',
    ).response;
    const responseHeader = new Headers({ 'content-type': contentTypeProto });
    if (compression !== null) responseHeader.set('grpc-encoding', compression.name);
    const answer = (body: Uint8Array | undefined, trailer: Headers) => {
      if (responded || stream.destroyed) return;
      responded = true;
      const head: OutgoingHttpHeaders = { ':status': 200, 'x-request-id': requestIdFor({ headers }) };
      for (const [name, value] of responseHeader) head[name] = value;
      stream.respond(head, { waitForTrailers: true });
      stream.once('wantTrailers', () => {
        const tail: OutgoingHttpHeaders = {};
        for (const [name, value] of trailer) tail[name] = value;
        stream.sendTrailers(tail);
      });
      stream.end(body);
    };
    const fail = (error: unknown) => {
      const connectError =
        error instanceof ConnectError
          ? error
          : new ConnectError('internal error', Code.Internal, undefined, undefined, error);
      answer(undefined, setTrailerStatus(new Headers(), connectError));
      cutUnreadBody(stream);
    };
    const bodyTimer = armBodyTimeout(stream, options.bodyTimeoutMs, options.logger);
    try {
      if (options.authenticate) {
        try {
          await options.authenticate(
            target.service.typeName,
            target.method.name,
            headerValue(headers.authorization) ?? undefined,
          );
        } catch (error) {
          throw toConnectError(error, options.codes, options.logger);
        }
      }
      const timeout = parseTimeout(headerValue(headers['grpc-timeout']), Number.MAX_SAFE_INTEGER);
      if (timeout.error) throw timeout.error;
      const input = await readSingleMessage(stream, target.method, options.readMaxBytes);
      if (input === undefined) return; // the client went away
      const deadline = timeout.timeoutMs === undefined ? undefined : Date.now() + timeout.timeoutMs;
      const deadlineTimer =
        timeout.timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => aborted.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded)),
              timeout.timeoutMs,
            );
      const responseTrailer = new Headers({ 'grpc-status': '0' });
      let output: MessageShape<DescMethodUnary['output']>;
      try {
        output = await withIncomingTrace(headers, () =>
          this.invoke(target, input, {
            headers,
            aborted,
            responseHeader,
            responseTrailer,
            timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
          }),
        );
      } finally {
        clearTimeout(deadlineTimer);
      }
      answer(await encodeEnvelope(target, output, compression, options.compressMinBytes), responseTrailer);
    } catch (error) {
      fail(error);
    } finally {
      clearTimeout(bodyTimer);
    }
  }

  /** The interceptors around the implementation, as Connect's invokeUnaryImplementation runs them. */
  private async invoke(
    target: UnaryMethod,
    message: MessageShape<DescMethodUnary['input']>,
    call: {
      headers: IncomingHttpHeaders;
      aborted: LazyAbort;
      responseHeader: Headers;
      responseTrailer: Headers;
      timeoutMs: () => number | undefined;
    },
  ): Promise<MessageShape<DescMethodUnary['output']>> {
    const { service, method } = target;
    const url = `http://${headerValue(call.headers[':authority']) ?? 'localhost'}${target.path}`;
    const implementation = async (req: UnaryRequest): Promise<UnaryResponse> => {
      const context: HandlerContext = {
        service,
        method,
        requestMethod: 'POST',
        protocolName: 'grpc',
        url: req.url,
        get signal() {
          return req.signal;
        },
        timeoutMs: call.timeoutMs,
        requestHeader: req.header,
        responseHeader: call.responseHeader,
        responseTrailer: call.responseTrailer,
        values: req.contextValues,
      };
      const result = await target.impl(req.message, context);
      const output = isMessage(result, method.output)
        ? result
        : create(method.output, result as Parameters<typeof create>[1]);
      return {
        stream: false,
        service,
        method,
        header: call.responseHeader,
        trailer: call.responseTrailer,
        message: output,
      };
    };
    const next = this.options.interceptors.reduceRight<(req: UnaryRequest) => Promise<UnaryResponse>>(
      (inner, interceptor) => interceptor(inner as never) as (req: UnaryRequest) => Promise<UnaryResponse>,
      implementation,
    );
    const response = await next({
      stream: false,
      service,
      method,
      requestMethod: 'POST',
      url,
      // Read by nothing on most calls: made on first use.
      get signal() {
        return call.aborted.signal;
      },
      header: requestHeaderOf(call.headers),
      contextValues: createContextValues(),
      message,
    });
    copyHeaders(response.header, call.responseHeader);
    copyHeaders(response.trailer, call.responseTrailer);
    return response.message;
  }
}

/**
 * The call's abort signal, made only when something reads it: an AbortController per call cost
 * about 5% of a cached GetConfig, and unary implementations rarely look at the signal.
 */
class LazyAbort {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

function labelsOf(target: UnaryMethod) {
  return { route: target.path, method: 'POST', status: '200' };
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The request's headers as Connect hands them to interceptors and handlers (no pseudo-headers). */
function requestHeaderOf(headers: IncomingHttpHeaders): Headers {
  const header = new Headers();
  for (const name in headers) {
    if (name.startsWith(':')) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) header.append(name, item);
    else header.set(name, value);
  }
  return header;
}

function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const [name, value] of from) to.set(name, value);
}

/**
 * The call's one request message, checked as Connect's gRPC handler checks it: an envelope over
 * readMaxBytes is refused as soon as its header arrives; a missing, extra or incomplete message
 * and a compressed one without grpc-encoding fail with Connect's codes and messages.
 * undefined when the client went away first.
 */
function readSingleMessage(
  stream: ServerHttp2Stream,
  method: DescMethodUnary,
  readMaxBytes: number,
): Promise<MessageShape<DescMethodUnary['input']> | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let checked = false;
    const done = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (!checked && received >= ENVELOPE_HEADER_BYTES) {
        checked = true;
        const length = Buffer.concat(chunks).readUInt32BE(1);
        if (length > readMaxBytes) {
          done();
          reject(
            new ConnectError(
              `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
              Code.ResourceExhausted,
            ),
          );
        }
      }
    };
    const onEnd = () => {
      done();
      try {
        resolve(parseSingleEnvelope(Buffer.concat(chunks, received), method, readMaxBytes));
      } catch (error) {
        reject(error);
      }
    };
    const onClose = () => {
      done();
      resolve(undefined);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onClose);
  });
}

function parseSingleEnvelope(
  body: Buffer,
  method: DescMethodUnary,
  readMaxBytes: number,
): MessageShape<DescMethodUnary['input']> {
  let offset = 0;
  // As Connect: the first message is parsed before a second one is looked at.
  let first: MessageShape<DescMethodUnary['input']> | undefined;
  while (offset < body.length) {
    if (body.length - offset < ENVELOPE_HEADER_BYTES) break;
    const flags = body.readUInt8(offset);
    const length = body.readUInt32BE(offset + 1);
    if (length > readMaxBytes) {
      throw new ConnectError(
        `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
        Code.ResourceExhausted,
      );
    }
    if (body.length - offset - ENVELOPE_HEADER_BYTES < length) break;
    const data = body.subarray(offset + ENVELOPE_HEADER_BYTES, offset + ENVELOPE_HEADER_BYTES + length);
    offset += ENVELOPE_HEADER_BYTES + length;
    if ((flags & compressedFlag) === compressedFlag) {
      throw new ConnectError(
        'received compressed envelope, but do not know how to decompress',
        Code.Internal,
      );
    }
    const message = parseBinary(method, data);
    if (first === undefined) first = message;
    else
      throw new ConnectError(
        'protocol error: received extra input message for unary method',
        Code.Unimplemented,
      );
  }
  if (offset < body.length)
    throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  if (first === undefined) {
    throw new ConnectError('protocol error: missing input message for unary method', Code.Unimplemented);
  }
  return first;
}

function parseBinary(method: DescMethodUnary, data: Uint8Array): MessageShape<DescMethodUnary['input']> {
  try {
    return fromBinary(method.input, data);
  } catch (error) {
    // As Connect (with our patch, patches/README.md): undecodable input is the sender's fault.
    const message = error instanceof Error ? error.message : String(error);
    throw new ConnectError(`parse binary: ${message}`, Code.InvalidArgument);
  }
}

async function encodeEnvelope(
  target: UnaryMethod,
  message: MessageShape<DescMethodUnary['output']>,
  compression: (typeof ACCEPT_COMPRESSION)[number] | null,
  compressMinBytes: number,
): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    data = toBinary(target.method.output, message);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectError(`serialize binary: ${reason}`, Code.Internal);
  }
  let flags = 0;
  if (compression !== null && data.byteLength >= compressMinBytes) {
    data = await compression.compress(data);
    flags = compressedFlag;
  }
  const envelope = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + data.byteLength);
  envelope.writeUInt8(flags, 0);
  envelope.writeUInt32BE(data.byteLength, 1);
  envelope.set(data, ENVELOPE_HEADER_BYTES);
  return envelope;
}

/** HTTP/2 has no request timer: a body that has not fully arrived in time is reset (CANCEL). */
function armBodyTimeout(
  stream: ServerHttp2Stream,
  ms: number,
  logger: Logger,
): ReturnType<typeof setTimeout> | undefined {
  if (ms <= 0 || stream.readableEnded) return undefined;
  const timer = setTimeout(() => {
    if (!stream.readableEnded && !stream.destroyed) {
      logger.warn('request body not received in time; stream reset');
      stream.close(http2Constants.NGHTTP2_CANCEL);
    }
  }, ms);
  timer.unref();
  return timer;
}

/** After an early answer the body is not waited for: RST_STREAM(NO_ERROR) after a grace period. */
function cutUnreadBody(stream: ServerHttp2Stream): void {
  if (stream.readableEnded || stream.destroyed) return;
  const timer = setTimeout(() => {
    if (!stream.destroyed && !stream.readableEnded) stream.close(http2Constants.NGHTTP2_NO_ERROR);
  }, UNREAD_BODY_GRACE_MS);
  timer.unref();
}
