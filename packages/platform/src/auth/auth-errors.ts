import { AppError } from '../errors/index.js';

/** 401 / UNAUTHORIZED; `cause` keeps the library error for logs without exposing it to callers. */
export function unauthenticated(message: string, cause?: unknown): AppError {
  return new AppError('unauthenticated', { code: 'UNAUTHORIZED', message, cause });
}
