import type { Http2Server, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import {
  create,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  isMessage,
  type MessageShape,
} from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import { compressedFlag, compressionNegotiate } from '@connectrpc/connect/protocol';
import { contentTypeProto, parseTimeout, setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';
import { principalKey } from '../auth/connect-auth.js';
import type { Principal } from '../auth/principal.js';
import type { Logger } from '../observability/logger.js';
import type { HttpMetrics } from '../observability/metrics.js';
import { withIncomingTrace } from '../observability/tracing.js';
import { onAbort } from '../runtime/any-signal.js';
import { pipeTo } from '../streams/push-stream.js';
import { toConnectError } from './connect-errors.js';
import type { ConnectAuthenticate } from './connect-gate.js';
import type { ErrorCodes } from './error-envelope.js';
import { type Compression, ENVELOPE_HEADER_BYTES, encodeEnvelope } from './grpc-envelope.js';
import { GrpcStreamSink } from './grpc-stream-sink.js';
import { armHttp2BodyTimeout, cutUnreadBodyAfterGrace } from './http2-body.js';
import { binaryCodecKey } from './pre-encoded.js';
import { requestIdFor } from './request-id.js';

/**
 * A direct HTTP/2 path for unary and server-streaming gRPC calls (issue 13). Connect serves a
 * call through its universal-handler pipeline — a chain of down-levelled async generators per call
 * and per message, a linked AbortController aborted (with a DOMException) at the end of every
 * call, Fastify's route and hook chain — which cost about 5× the CPU of the REST route for the
 * same use case (GetConfig from the cache: 1,100 against 10,400 req/s), and the same per message
 * on every open WatchConfig stream. This path answers the same calls from the HTTP/2 `stream`
 * event: the same gate (authentication from the headers before the body is read), the same
 * interceptors (roles, error model, stream limits, shutdown) around the same service
 * implementation, the same protobuf codec, and the same frames as Connect's gRPC protocol:
 * headers, the messages, trailers; errors as Connect's setTrailerStatus writes them.
 *
 * It takes only what it answers exactly as Connect would: POST of `application/grpc` or
 * `application/grpc+proto` with an uncompressed request (no grpc-encoding, or identity), to a
 * unary or server-streaming method registered through `record`. Everything else — gRPC-Web, the
 * Connect protocol, JSON, compressed requests, health and reflection — goes on to Connect.
 * A stream's headers go out as soon as the interceptors have admitted it (Connect sends them with
 * the first message or after 50 ms, patches/README.md): a quiet watch is never left without them.
 */

type DirectMethodDesc = DescMethodUnary | DescMethodServerStreaming;
type Input = MessageShape<DirectMethodDesc['input']>;
type Output = MessageShape<DirectMethodDesc['output']>;

/** One method served here: its descriptors and the implementation registered with Connect. */
interface DirectMethod {
  service: DescService;
  method: DirectMethodDesc;
  impl: (request: Input, context: HandlerContext) => unknown;
  /** `/<service>/<Method>`: the :path, the metrics route label and the audit operation. */
  path: string;
  /** A call's metrics labels, made once: every answer here is HTTP 200 (the gRPC status is in the trailers). */
  labels: { route: string; method: 'POST'; status: '200' };
  /** The interceptors around `implement`, composed once as Connect composes them per method. */
  next: (req: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;
}

export interface GrpcDirectPathOptions {
  /** The Connect interceptors, in Connect's order (the first one is outermost). */
  interceptors: Interceptor[];
  /** Connect's requestGate equivalent: authentication from the headers before the body is read. */
  authenticate?: ConnectAuthenticate;
  codes: ErrorCodes;
  logger: Logger;
  metrics: HttpMetrics;
  /** Aborts the signal of every open stream, as Connect's shutdownSignal does. */
  shutdownSignal: AbortSignal;
  /** Largest request message (grpc.max_recv_msg_size), as Connect's readMaxBytes. */
  readMaxBytes: number;
  /** Responses from this size are compressed when the caller accepts it (Connect's compressMinBytes). */
  compressMinBytes: number;
  /** The request body must have arrived within this (ms; 0 = no limit), as on Connect's routes. */
  bodyTimeoutMs: number;
}

/** As Connect's Node adapters: what a caller's grpc-accept-encoding may pick for the response. */
const ACCEPT_COMPRESSION: Compression[] = [compressionGzip, compressionBrotli];
// Abort reasons every call may use: made once (a ConnectError captures a stack when created).
const CLIENT_WENT_AWAY = new ConnectError('the client went away', Code.Canceled);
const CALL_ENDED = new ConnectError('the call has ended', Code.Canceled);

type StreamListener = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

/** What one call's implementation context and answer share. */
interface CallState {
  headers: IncomingHttpHeaders;
  /** Who the gate admitted, for the auth interceptor (it then only checks the role). */
  principal: Principal | undefined;
  aborted: LazyAbort;
  response: ResponseMetadata;
  /** The response `implement` made, whose header and trailer are the call's own. */
  produced?: UnaryResponse | StreamResponse;
  timeoutMs: () => number | undefined;
}

export class GrpcDirectPath {
  private readonly methods = new Map<string, DirectMethod>();

  constructor(private readonly options: GrpcDirectPathOptions) {}

  /**
   * A router for the app's `routes(router)`: each service goes to Connect as before, and its
   * unary and server-streaming methods are also kept here. Services registered with their own
   * handler options (their own limits or interceptors) stay with Connect only.
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
      if (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming') continue;
      const impl = implementation[method.localName];
      // An unimplemented method keeps Connect's UNIMPLEMENTED answer.
      if (typeof impl !== 'function') continue;
      const path = `/${service.typeName}/${method.name}`;
      const target: DirectMethod = {
        service,
        method: method as DirectMethodDesc,
        impl: impl.bind(implementation),
        path,
        labels: { route: path, method: 'POST', status: '200' },
        next: (req) => implement(target, req),
      };
      target.next = this.options.interceptors.reduceRight<DirectMethod['next']>(
        (inner, interceptor) => interceptor(inner) as DirectMethod['next'],
        target.next,
      );
      this.methods.set(path, target);
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

  private async serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, target: DirectMethod) {
    const started = performance.now();
    const { options } = this;
    // A reset or broken stream must not become an uncaught 'error' event; its end is seen on 'close'.
    stream.on('error', () => {});
    const aborted = new LazyAbort();
    stream.once('close', () => {
      aborted.abort(CLIENT_WENT_AWAY);
      options.metrics.requests.inc(target.labels);
      options.metrics.duration.observe(target.labels, (performance.now() - started) / 1000);
    });
    const compression = compressionNegotiate(
      ACCEPT_COMPRESSION,
      null,
      headerValue(headers['grpc-accept-encoding']),
      'grpc-accept-encoding',
    ).response;
    const metadata = new ResponseMetadata(compression?.name);
    const respond = () => {
      stream.respond(metadata.head(requestIdFor({ headers })), { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers(metadata.tail()));
    };
    const disarmBodyTimeout = armHttp2BodyTimeout(stream, options.bodyTimeoutMs, () =>
      options.logger.warn('request body not received in time; stream reset'),
    );
    let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
    let unlinkShutdown = () => {};
    try {
      let principal: Principal | undefined;
      if (options.authenticate) {
        try {
          const admitted = options.authenticate(
            target.service.typeName,
            target.method.name,
            headerValue(headers.authorization) ?? undefined,
          );
          principal = admitted instanceof Promise ? await admitted : admitted;
        } catch (error) {
          throw toConnectError(error, options.codes, options.logger);
        }
      }
      const timeout = parseTimeout(headerValue(headers['grpc-timeout']), Number.MAX_SAFE_INTEGER);
      if (timeout.error) throw timeout.error;
      const input = await readSingleMessage(stream, target.method, options.readMaxBytes);
      if (input === undefined) return; // the client went away
      const deadline = timeout.timeoutMs === undefined ? undefined : Date.now() + timeout.timeoutMs;
      if (timeout.timeoutMs !== undefined) {
        deadlineTimer = setTimeout(
          () => aborted.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded)),
          timeout.timeoutMs,
        );
      }
      const call: CallState = {
        headers,
        principal,
        aborted,
        response: metadata,
        timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
      };
      if (target.method.methodKind === 'unary') {
        const output = await withIncomingTrace(headers, () => this.invoke(target, input, call, false));
        if (output.stream) throw new ConnectError('a stream answered a unary call', Code.Internal);
        const body = await encodeEnvelope(
          target.method,
          output.message,
          compression,
          options.compressMinBytes,
        );
        if (stream.destroyed) return;
        respond();
        stream.end(body);
        return;
      }
      unlinkShutdown = aborted.follow(options.shutdownSignal);
      const response = await withIncomingTrace(headers, () => this.invoke(target, input, call, true));
      if (!response.stream) throw new ConnectError('a single message answered a stream', Code.Internal);
      if (stream.destroyed) {
        await response.message[Symbol.asyncIterator]().return?.();
        return;
      }
      respond();
      // Pushed by the producer when it can (WatchConfig), else pulled: either way each message is
      // written in the call that hands it over (platform streams).
      const sink = new GrpcStreamSink<unknown>(stream, (item) =>
        encodeEnvelope(target.method, normalize(target.method, item), compression, options.compressMinBytes),
      );
      const stop = pipeTo(response.message, sink);
      // The client went away: the producer lets go, the call ends.
      const leave = () => {
        stop();
        sink.end();
      };
      stream.once('close', leave);
      let failure = await sink.outcome;
      stream.off('close', leave);
      const reason = aborted.reason;
      if (failure === undefined && reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) {
        failure = reason;
      }
      if (failure !== undefined) setTrailerStatus(metadata.trailer, asConnectError(failure));
      if (!stream.destroyed) stream.end();
    } catch (error) {
      if (stream.destroyed) return;
      // Nothing was sent yet: headers, then the status in the trailers (as Connect answers).
      setTrailerStatus(metadata.trailer, asConnectError(error));
      respond();
      stream.end();
      cutUnreadBodyAfterGrace(stream);
    } finally {
      disarmBodyTimeout();
      clearTimeout(deadlineTimer);
      unlinkShutdown();
      // As Connect's context.abort() when a call ends: whatever still listens lets go.
      aborted.abort(CALL_ENDED);
    }
  }

  /** The interceptors around the implementation, as Connect's invoke*Implementation run them. */
  private async invoke(
    target: DirectMethod,
    message: Input,
    call: CallState,
    streaming: boolean,
  ): Promise<UnaryResponse | StreamResponse> {
    const url = `http://${headerValue(call.headers[':authority']) ?? 'localhost'}${target.path}`;
    const contextValues = createContextValues();
    contextValues.set(callStateKey, call);
    if (call.principal !== undefined) contextValues.set(principalKey, call.principal);
    contextValues.set(binaryCodecKey, true); // application/grpc or application/grpc+proto only (take)
    const request: UnaryRequest | StreamRequest = streaming
      ? new DirectStreamRequest(target, url, contextValues, call, once(message))
      : new DirectUnaryRequest(target, url, contextValues, call, message);
    const response = await target.next(request);
    // An interceptor that answered with headers of its own: they join the call's.
    if (response !== call.produced) {
      if (response.header !== undefined) copyHeaders(response.header, call.response.header);
      if (!response.stream && response.trailer !== undefined) {
        copyHeaders(response.trailer, call.response.trailer);
      }
    }
    return response;
  }
}

/** The call a request belongs to: the interceptor chain is shared by every call of a method. */
const callStateKey = createContextKey<CallState | undefined>(undefined, {
  description: 'k1s0 direct-path call',
});

function callOf(req: UnaryRequest | StreamRequest): CallState {
  const call = req.contextValues.get(callStateKey);
  if (call === undefined) throw new ConnectError('direct-path request without its call', Code.Internal);
  return call;
}

/** The implementation at the centre of the chain, as Connect's invoke*Implementation. */
async function implement(
  target: DirectMethod,
  req: UnaryRequest | StreamRequest,
): Promise<UnaryResponse | StreamResponse> {
  const { service, method } = target;
  const call = callOf(req);
  if (!req.stream) {
    const result = await target.impl(req.message, new DirectHandlerContext(target, call, req));
    call.produced = new DirectUnaryResponse(
      service,
      method as DescMethodUnary,
      normalize(method, result),
      call.response,
    );
    return call.produced;
  }
  const output = target.impl(
    await firstOf(req.message),
    new DirectHandlerContext(target, call, req),
  ) as AsyncIterable<unknown>;
  // Init objects or messages, normalized as they are written (serve) rather than in one more
  // generator layer per message; the interceptors pass messages through without reading them.
  // The interceptors spread a stream's response (their own message layer), which reads every
  // property: its header and trailer are values.
  call.produced = {
    service,
    stream: true,
    method: method as DescMethodServerStreaming,
    message: output as AsyncIterable<Output>,
    header: call.response.header,
    trailer: call.response.trailer,
  };
  return call.produced;
}

/*
 * The request, context and unary response handed to interceptors and the implementation are class
 * instances with their lazy parts (signal, headers) as getters on the prototype: an object literal
 * with getters is a dictionary-mode object (a 448- or 832-byte property store each, measured in a
 * heap snapshot with 3,000 WatchConfig streams open) and slow to build on every call.
 */

/** Built on first read, like the signal: a cached GetConfig never looks at its headers. */
abstract class DirectRequestBase {
  readonly requestMethod = 'POST';
  private madeHeader: Headers | undefined;

  constructor(
    readonly service: DescService,
    readonly url: string,
    readonly contextValues: ContextValues,
    private readonly call: CallState,
  ) {}

  get signal(): AbortSignal {
    return this.call.aborted.signal;
  }

  get header(): Headers {
    this.madeHeader ??= requestHeaderOf(this.call.headers);
    return this.madeHeader;
  }
}

class DirectUnaryRequest extends DirectRequestBase implements UnaryRequest {
  readonly stream = false;
  readonly method: DescMethodUnary;

  constructor(
    target: DirectMethod,
    url: string,
    values: ContextValues,
    call: CallState,
    readonly message: Input,
  ) {
    super(target.service, url, values, call);
    this.method = target.method as DescMethodUnary;
  }
}

class DirectStreamRequest extends DirectRequestBase implements StreamRequest {
  readonly stream = true;
  readonly method: DescMethodServerStreaming;

  constructor(
    target: DirectMethod,
    url: string,
    values: ContextValues,
    call: CallState,
    readonly message: AsyncIterable<Input>,
  ) {
    super(target.service, url, values, call);
    this.method = target.method as DescMethodServerStreaming;
  }
}

class DirectUnaryResponse implements UnaryResponse {
  readonly stream = false;

  constructor(
    readonly service: DescService,
    readonly method: DescMethodUnary,
    readonly message: Output,
    private readonly metadata: ResponseMetadata,
  ) {}

  get header(): Headers {
    return this.metadata.header;
  }

  get trailer(): Headers {
    return this.metadata.trailer;
  }
}

class DirectHandlerContext implements HandlerContext {
  readonly service: DescService;
  readonly method: DirectMethodDesc;
  readonly requestMethod = 'POST';
  readonly protocolName = 'grpc';
  readonly url: string;
  readonly timeoutMs: () => number | undefined;
  readonly values: ContextValues;

  constructor(
    target: DirectMethod,
    private readonly call: CallState,
    private readonly req: UnaryRequest | StreamRequest,
  ) {
    this.service = target.service;
    this.method = target.method;
    this.url = req.url;
    this.timeoutMs = call.timeoutMs;
    this.values = req.contextValues;
  }

  get signal(): AbortSignal {
    return this.req.signal;
  }

  get requestHeader(): Headers {
    return this.req.header;
  }

  get responseHeader(): Headers {
    return this.call.response.header;
  }

  get responseTrailer(): Headers {
    return this.call.response.trailer;
  }
}

function asConnectError(error: unknown): ConnectError {
  return error instanceof ConnectError
    ? error
    : new ConnectError('internal error', Code.Internal, undefined, undefined, error);
}

function normalize(method: DirectMethodDesc, result: unknown): Output {
  return isMessage(result, method.output)
    ? result
    : create(method.output, result as Parameters<typeof create>[1]);
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

async function firstOf<T>(values: AsyncIterable<T>): Promise<T> {
  for await (const value of values) return value;
  throw new ConnectError(
    'protocol error: missing input message for server-streaming method',
    Code.Unimplemented,
  );
}

/**
 * The call's abort signal, made only when something reads it: an AbortController per call cost
 * about 5% of a cached GetConfig, and unary implementations rarely look at the signal.
 */
class LazyAbort {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Why the call was aborted, undefined while it was not. */
  get reason(): unknown {
    return this.abortReason;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Aborts with `source`; returns the detach (a plain listener, removed when the call ends). */
  follow(source: AbortSignal): () => void {
    if (source.aborted) {
      this.abort(source.reason);
      return () => {};
    }
    return onAbort(source, () => this.abort(source.reason));
  }
}

/**
 * A call's response headers and trailers as Connect hands them to interceptors and handlers, made
 * only when one of them reads them: two undici Headers per call (built, then iterated into the
 * HTTP/2 head) were about 5% of a cached GetConfig's allocations, and most calls never touch them.
 */
class ResponseMetadata {
  private madeHeader: Headers | undefined;
  private madeTrailer: Headers | undefined;

  /** `encoding`: the response's grpc-encoding, when the caller accepts one we compress with. */
  constructor(private readonly encoding: string | undefined) {}

  /** What a call's response headers start as, one list for both forms (Headers and the head). */
  private initialHeader(): Record<string, string> {
    return this.encoding === undefined
      ? { 'content-type': contentTypeProto }
      : { 'content-type': contentTypeProto, 'grpc-encoding': this.encoding };
  }

  get header(): Headers {
    this.madeHeader ??= new Headers(this.initialHeader());
    return this.madeHeader;
  }

  get trailer(): Headers {
    this.madeTrailer ??= new Headers(OK_TRAILER);
    return this.madeTrailer;
  }

  /** The HTTP/2 response head: what `header` holds or would hold. */
  head(requestId: string): OutgoingHttpHeaders {
    const head: OutgoingHttpHeaders = { ':status': 200, 'x-request-id': requestId };
    return fill(head, this.madeHeader ?? this.initialHeader());
  }

  /** The trailers: what `trailer` holds or would hold. */
  tail(): OutgoingHttpHeaders {
    return fill({}, this.madeTrailer ?? OK_TRAILER);
  }
}

/** The trailers of a call that ended well, unless something set others. */
const OK_TRAILER: Readonly<Record<string, string>> = { 'grpc-status': '0' };

function fill(
  into: OutgoingHttpHeaders,
  from: Headers | Readonly<Record<string, string>>,
): OutgoingHttpHeaders {
  if (from instanceof Headers) {
    for (const [name, value] of from) into[name] = value;
  } else {
    for (const name in from) into[name] = from[name];
  }
  return into;
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
  method: DirectMethodDesc,
  readMaxBytes: number,
): Promise<Input | undefined> {
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

function parseSingleEnvelope(body: Buffer, method: DirectMethodDesc, readMaxBytes: number): Input {
  let offset = 0;
  // As Connect: the first message is parsed before a second one is looked at.
  let first: Input | undefined;
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
    throw new ConnectError(
      `protocol error: missing input message for ${kindOf(method)} method`,
      Code.Unimplemented,
    );
  }
  return first;
}

/** As Connect's ensureSingle names the method kind in its protocol errors. */
function kindOf(method: DirectMethodDesc): string {
  return method.methodKind === 'unary' ? 'unary' : 'server-streaming';
}

function parseBinary(method: DirectMethodDesc, data: Uint8Array): Input {
  try {
    return fromBinary(method.input, data);
  } catch (error) {
    // As Connect (with our patch, patches/README.md): undecodable input is the sender's fault.
    const message = error instanceof Error ? error.message : String(error);
    throw new ConnectError(`parse binary: ${message}`, Code.InvalidArgument);
  }
}
