/**
 * The one error model of the platform. Domain packages throw these (this module imports no I/O
 * library); the REST envelope (SPEC §4) and gRPC status codes are derived from `kind` at the edge.
 */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'already_exists'
  | 'failed_precondition'
  | 'payload_too_large'
  | 'resource_exhausted'
  | 'request_timeout'
  | 'unavailable'
  | 'internal';

export interface ErrorDetail {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  /** Code without the service prefix, e.g. `KEY_NOT_FOUND`; the prefix is added per service. */
  code: string;
  message: string;
  details?: ErrorDetail[];
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(kind: ErrorKind, options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.code = options.code;
    this.details = options.details ?? [];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Shorthands so call sites read as what they mean. */
export const errors = {
  validation: (code: string, message: string, details?: ErrorDetail[]) =>
    new AppError('validation', { code, message, details }),
  notFound: (code: string, message: string, details?: ErrorDetail[]) =>
    new AppError('not_found', { code, message, details }),
  conflict: (code: string, message: string, details?: ErrorDetail[]) =>
    new AppError('conflict', { code, message, details }),
  alreadyExists: (code: string, message: string, details?: ErrorDetail[]) =>
    new AppError('already_exists', { code, message, details }),
  failedPrecondition: (code: string, message: string, details?: ErrorDetail[]) =>
    new AppError('failed_precondition', { code, message, details }),
  unauthenticated: (message = 'authentication required') =>
    new AppError('unauthenticated', { code: 'UNAUTHORIZED', message }),
  permissionDenied: (message = 'insufficient role') =>
    new AppError('permission_denied', { code: 'PERMISSION_DENIED', message }),
  unavailable: (message = 'service temporarily unavailable', cause?: unknown) =>
    new AppError('unavailable', { code: 'UNAVAILABLE', message, cause }),
  internal: (cause?: unknown) =>
    new AppError('internal', { code: 'INTERNAL_ERROR', message: 'internal server error', cause }),
} as const;
