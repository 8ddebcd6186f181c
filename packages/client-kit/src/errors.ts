import { Code, ConnectError } from '@connectrpc/connect';

/** What a failed call means to a caller (and to k1s0ctl's exit codes). */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'failed_precondition'
  | 'unavailable'
  | 'internal';

export interface ErrorDetail {
  readonly field: string;
  readonly message: string;
}

/**
 * A REST error answered with the services' envelope `{"error":{"code","message","request_id",
 * "details"}}` (SPEC §4), or a gRPC/Connect error translated to the same shape.
 */
export class K1s0Error extends Error {
  override readonly name = 'K1s0Error';
  constructor(
    readonly kind: ErrorKind,
    /** The service's code, e.g. SYS_CONFIG_VERSION_CONFLICT (gRPC: the status name). */
    readonly code: string,
    message: string,
    readonly status: number | undefined,
    readonly details: readonly ErrorDetail[] = [],
    readonly requestId: string | undefined = undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const kindOfStatus = (status: number): ErrorKind => {
  if (status === 400 || status === 413) return 'validation';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 412) return 'failed_precondition';
  if (status === 503) return 'unavailable';
  return 'internal';
};

const kindOfCode: Partial<Record<Code, ErrorKind>> = {
  [Code.InvalidArgument]: 'validation',
  [Code.OutOfRange]: 'validation',
  [Code.ResourceExhausted]: 'validation',
  [Code.Unauthenticated]: 'unauthenticated',
  [Code.PermissionDenied]: 'permission_denied',
  [Code.NotFound]: 'not_found',
  [Code.Aborted]: 'conflict',
  [Code.AlreadyExists]: 'conflict',
  [Code.FailedPrecondition]: 'failed_precondition',
  [Code.Unavailable]: 'unavailable',
  [Code.DeadlineExceeded]: 'unavailable',
};

export function errorFromStatus(status: number, body: unknown, requestId?: string): K1s0Error {
  const envelope = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  const code = typeof envelope?.code === 'string' ? envelope.code : `HTTP_${status}`;
  const message = typeof envelope?.message === 'string' ? envelope.message : `HTTP ${status}`;
  const details = Array.isArray(envelope?.details) ? (envelope.details as ErrorDetail[]) : [];
  return new K1s0Error(kindOfStatus(status), code, message, status, details, requestId);
}

/** Any error from a call (REST, Connect, network) in the K1s0Error shape. */
export function toK1s0Error(error: unknown): K1s0Error {
  if (error instanceof K1s0Error) return error;
  if (error instanceof ConnectError) {
    const kind = isTransient(error) ? 'unavailable' : (kindOfCode[error.code] ?? 'internal');
    return new K1s0Error(kind, Code[error.code] ?? 'Unknown', error.rawMessage, undefined, [], undefined, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  const kind = isTransient(error) ? 'unavailable' : 'internal';
  return new K1s0Error(
    kind,
    kind === 'unavailable' ? 'UNAVAILABLE' : 'INTERNAL',
    message,
    undefined,
    [],
    undefined,
    {
      cause: error,
    },
  );
}

const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function socketCodeIn(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, cause, message } = error as { code?: unknown; cause?: unknown; message?: unknown };
  if (typeof code === 'string' && TRANSIENT_SOCKET_CODES.has(code)) return true;
  if (typeof message === 'string' && /socket hang up|ECONNRESET|ECONNREFUSED|premature close/i.test(message))
    return true;
  return socketCodeIn(cause, depth + 1);
}

/**
 * Worth retrying: the server is (momentarily) not there, the connection broke, or the deadline
 * passed. Whether a retry is SAFE is the caller's business (appends carry event ids for that).
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof K1s0Error) return error.kind === 'unavailable';
  if (error instanceof ConnectError) {
    if (error.code === Code.Unavailable || error.code === Code.DeadlineExceeded) return true;
    // connect-node reports a connection lost mid-call with whatever code it maps the socket
    // error to (a "socket hang up" becomes ABORTED): the cause tells it from a server answer.
    return socketCodeIn(error.cause);
  }
  return socketCodeIn(error);
}
