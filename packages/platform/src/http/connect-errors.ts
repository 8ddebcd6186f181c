import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { type AppError, grpcCodeOf } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import type { ErrorCodes } from './error-envelope.js';
import { classifyError } from './error-envelope.js';

/** The gRPC face of the one error model: AppError kinds become status codes, internals never leak. */
export function toConnectError(error: unknown, codes: ErrorCodes, logger?: Logger): ConnectError {
  if (error instanceof ConnectError) return error;
  const appError: AppError = classifyError(error, codes);
  if (appError.kind === 'internal') logger?.error({ err: error }, 'rpc failed');
  const metadata = new Headers({ 'x-error-code': `${codes.prefix}${appError.code}` });
  const err = new ConnectError(appError.message, grpcCodeOf[appError.kind] as Code, metadata);
  return err;
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
