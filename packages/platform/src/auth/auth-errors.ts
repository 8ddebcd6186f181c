import { AppError } from '../errors/index.js';

const deniedActor = new WeakMap<AppError, string>();

/**
 * 401 / UNAUTHORIZED; `cause` keeps the library error for logs without exposing it to callers.
 * `actor` is who the credential proved to be when it was refused for its state (an expired or
 * revoked API key): the audit trail records it; callers never see it.
 */
export function unauthenticated(message: string, cause?: unknown, actor?: string): AppError {
  const error = new AppError('unauthenticated', { code: 'UNAUTHORIZED', message, cause });
  if (actor !== undefined) deniedActor.set(error, actor);
  return error;
}

/** The proven identity behind a refused credential, if any (see `unauthenticated`). */
export function actorOfRefusal(error: AppError): string | undefined {
  return deniedActor.get(error);
}
