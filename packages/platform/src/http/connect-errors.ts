import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { principalKey } from '../auth/connect-auth.js';
import type { Principal } from '../auth/principal.js';
import { type AppError, grpcCodeOf, isAppError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import { hookedStream } from '../streams/stream-hooks.js';
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

/**
 * A permission_denied raised after the caller was admitted (a use case's scope check, a per-request
 * role rule): the auth layer never saw it, so it is reported here, for the audit trail.
 */
export interface Refusal {
  principal: Principal;
  /** `GET /api/v1/config/:namespace/:key` or `/k1s0.system.config.v1.ConfigService/GetConfig`. */
  operation: string;
  protocol: 'rest' | 'grpc';
  reason: string;
}

/** Called synchronously for each Refusal; must not throw or block. */
export type OnRefused = (refusal: Refusal) => void;

/**
 * Reports `error` when it is a permission_denied of an admitted caller. Refusals of the auth
 * layer itself happen before a principal is attached, and the CallerGate reports those.
 */
export function reportRefusal(
  onRefused: OnRefused | undefined,
  error: unknown,
  principal: Principal | undefined,
  where: { operation: string; protocol: 'rest' | 'grpc' },
): void {
  if (onRefused === undefined || principal === undefined) return;
  const cause = error instanceof ConnectError ? error.cause : error;
  if (!isAppError(cause) || cause.kind !== 'permission_denied') return;
  onRefused({ principal, ...where, reason: cause.message });
}

export function errorInterceptor(codes: ErrorCodes, logger?: Logger, onRefused?: OnRefused): Interceptor {
  return (next) => async (req) => {
    const report = (error: unknown) =>
      reportRefusal(onRefused, error, req.contextValues.get(principalKey), {
        operation: `/${req.service.typeName}/${req.method.name}`,
        protocol: 'grpc',
      });
    try {
      const res = await next(req);
      if (res.stream) {
        const message = hookedStream(res.message, {
          error: (error) => {
            report(error);
            return toConnectError(error, codes, logger);
          },
        });
        return { ...res, message };
      }
      return res;
    } catch (error) {
      report(error);
      throw toConnectError(error, codes, logger);
    }
  };
}

export { Code, ConnectError };
