import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { type AppError, grpcCodeOf, isAppError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import type { ErrorCodes } from './error-envelope.js';
import { classifyError } from './error-envelope.js';

/** The gRPC face of the one error model: AppError kinds become status codes, internals never leak. */
export function toConnectError(error: unknown, codes: ErrorCodes, logger?: Logger): ConnectError {
  if (error instanceof ConnectError) {
    // Errors raised as ConnectErrors (e.g. by the auth interceptor) keep their status; when they
    // wrap an AppError they get the same prefixed code metadata as every other error.
    if (isAppError(error.cause) && !error.metadata.has('x-error-code')) {
      error.metadata.set('x-error-code', `${codes.prefix}${error.cause.code}`);
    }
    return error;
  }
  const appError: AppError = classifyError(error, codes);
  if (appError.kind === 'internal') logger?.error({ err: error }, 'rpc failed');
  const metadata = new Headers({ 'x-error-code': `${codes.prefix}${appError.code}` });
  return new ConnectError(appError.message, grpcCodeOf[appError.kind] as Code, metadata);
}

async function* mapStreamErrors<T>(
  stream: AsyncIterable<T>,
  codes: ErrorCodes,
  logger?: Logger,
): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (error) {
    throw toConnectError(error, codes, logger);
  }
}

export function errorInterceptor(codes: ErrorCodes, logger?: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (res.stream) return { ...res, message: mapStreamErrors(res.message, codes, logger) };
      return res;
    } catch (error) {
      throw toConnectError(error, codes, logger);
    }
  };
}

export { Code, ConnectError };
