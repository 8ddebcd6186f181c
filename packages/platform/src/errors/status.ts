import type { ErrorKind } from './app-error.js';

/** HTTP status for each error kind (SPEC §4). */
export const httpStatusOf: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  already_exists: 409,
  failed_precondition: 412,
  payload_too_large: 413,
  resource_exhausted: 429,
  request_timeout: 408,
  unavailable: 503,
  internal: 500,
};

/**
 * gRPC status code numbers (same numbering as @connectrpc/connect's `Code`), kept here as plain
 * numbers so this module stays free of protocol libraries.
 */
export const grpcCodeOf: Record<ErrorKind, number> = {
  validation: 3, // INVALID_ARGUMENT
  unauthenticated: 16, // UNAUTHENTICATED
  permission_denied: 7, // PERMISSION_DENIED
  not_found: 5, // NOT_FOUND
  conflict: 10, // ABORTED
  already_exists: 6, // ALREADY_EXISTS
  failed_precondition: 9, // FAILED_PRECONDITION
  payload_too_large: 8, // RESOURCE_EXHAUSTED
  resource_exhausted: 8, // RESOURCE_EXHAUSTED
  request_timeout: 4, // DEADLINE_EXCEEDED
  unavailable: 14, // UNAVAILABLE
  internal: 13, // INTERNAL
};
