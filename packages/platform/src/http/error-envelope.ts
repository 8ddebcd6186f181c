import { toAppError as databaseErrorToAppError } from '../db/errors.js';
import { AppError, type ErrorDetail, httpStatusOf, isAppError } from '../errors/index.js';

/** SPEC §4: `{"error":{"code","message","request_id","details":[{"field","message"}]}}`. */
export interface ErrorEnvelope {
  error: { code: string; message: string; request_id: string; details: ErrorDetail[] };
}

/** Per-service naming of the codes the platform produces itself. */
export interface ErrorCodes {
  /** `SYS_CONFIG_` or `SYS_EVSTORE_`. */
  prefix: string;
  /** Suffix used for request validation failures: `VALIDATION_FAILED` / `VALIDATION_ERROR`. */
  validation: string;
  /** Message for validation failures. */
  validationMessage: string;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
}

/**
 * Turns anything thrown while handling a request into an AppError (never leaking internals):
 * request-parsing failures by status, everything else through the database mapper, so an
 * unreachable database answers 503 wherever it surfaces.
 */
export function classifyError(error: unknown, codes: ErrorCodes): AppError {
  if (isAppError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  if (e.validation) {
    return new AppError('validation', {
      code: codes.validation,
      message: codes.validationMessage,
      details: e.validation.map((v) => ({
        field:
          (typeof v.params?.missingProperty === 'string' ? v.params.missingProperty : undefined) ??
          (v.instancePath?.replace(/^\//, '').replaceAll('/', '.') || e.validationContext || 'body'),
        message: v.message ?? 'invalid',
      })),
    });
  }
  switch (e.statusCode) {
    case 413:
      return new AppError('payload_too_large', {
        code: 'PAYLOAD_TOO_LARGE',
        message: 'request body too large',
      });
    case 415:
      return new AppError('validation', {
        code: codes.validation,
        message: codes.validationMessage,
        details: [{ field: 'content-type', message: 'expected application/json' }],
      });
    case 400:
      return new AppError('validation', {
        code: codes.validation,
        message: codes.validationMessage,
        details: [{ field: 'body', message: describeBodyError(e) }],
      });
    default:
      return databaseErrorToAppError(error);
  }
}

function describeBodyError(e: FastifyLikeError): string {
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'request body is empty';
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.message?.includes('JSON')) return 'malformed JSON';
  return 'invalid request body';
}

export function envelope(error: AppError, codes: ErrorCodes, requestId: string): ErrorEnvelope {
  return {
    error: {
      code: `${codes.prefix}${error.code}`,
      message: error.message,
      request_id: requestId,
      details: error.details,
    },
  };
}

export function statusOf(error: AppError): number {
  return httpStatusOf[error.kind];
}
