import { DrizzleQueryError } from 'drizzle-orm/errors';
import postgres from 'postgres';
import { AppError, errors } from '../errors/index.js';

/** Node socket errors that mean "the server could not be reached", not "the query was wrong". */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** postgres.js's own connection error codes. */
const DRIVER_CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** SQLSTATEs for a server that is down, restarting, or refusing more sessions. */
const UNAVAILABLE_SQLSTATES = new Set([
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
  '57P05', // idle_session_timeout
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error as { code: unknown };
  return typeof code === 'string' ? code : undefined;
}

/** drizzle wraps driver errors in DrizzleQueryError; the driver's error is what says what happened. */
function driverError(error: unknown): unknown {
  return error instanceof DrizzleQueryError && error.cause !== undefined ? error.cause : error;
}

/** The server-reported error (postgres.js PostgresError) behind `error`, if there is one. */
export function postgresError(error: unknown): postgres.PostgresError | undefined {
  const cause = driverError(error);
  return cause instanceof postgres.PostgresError ? cause : undefined;
}

/** PostgreSQL's SQLSTATE of a server-reported error, if any. */
export function sqlState(error: unknown): string | undefined {
  return postgresError(error)?.code;
}

/** True when the error means the database cannot be reached right now (→ 503 / UNAVAILABLE). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const cause = driverError(error);
  // Node reports every failed address of a multi-address host (localhost → ::1, 127.0.0.1) at once.
  if (cause instanceof AggregateError) return cause.errors.some(isDatabaseUnavailable);
  const state = sqlState(cause);
  if (state !== undefined) return state.startsWith('08') || UNAVAILABLE_SQLSTATES.has(state);
  const code = errorCode(cause);
  return code !== undefined && (NETWORK_ERROR_CODES.has(code) || DRIVER_CONNECTION_CODES.has(code));
}

/** Failures to open a connection (nothing was sent): a retry right away would only fail the same way. */
const CONNECT_FAILURE_CODES = new Set([
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const CONNECT_FAILURE_SQLSTATES = new Set(['57P03', '53300', '08001', '08004']);

/**
 * True when the database could not even be connected to (refused, unreachable, connect timeout,
 * "starting up"): no statement ran, and retrying at once cannot help (issue 10 finding 8).
 */
export function isConnectFailure(error: unknown): boolean {
  const cause = driverError(error);
  if (cause instanceof AggregateError) return cause.errors.length > 0 && cause.errors.every(isConnectFailure);
  const state = sqlState(cause);
  if (state !== undefined) return CONNECT_FAILURE_SQLSTATES.has(state);
  const code = errorCode(cause);
  return code !== undefined && CONNECT_FAILURE_CODES.has(code);
}

/** unique_violation (23505), optionally of one named constraint; callers turn it into their own error. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const cause = postgresError(error);
  if (cause?.code !== '23505') return false;
  return constraint === undefined || cause.constraint_name === constraint;
}

/**
 * Maps a database failure to the platform error model: unreachable/restarting database →
 * `unavailable`, anything else → `internal` (the driver text stays in `cause`, never in the
 * response). AppErrors pass through unchanged. Constraint violations are not mapped to
 * domain errors here: only the caller knows what a duplicate means.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) return errors.unavailable('database unavailable', error);
  return errors.internal(error);
}

/**
 * For paths whose callers interpret database errors themselves: only "cannot reach the
 * database" becomes AppError('unavailable'); anything else is returned unchanged.
 */
export function unavailableOrOriginal(error: unknown): unknown {
  return isDatabaseUnavailable(error) ? toAppError(error) : error;
}
