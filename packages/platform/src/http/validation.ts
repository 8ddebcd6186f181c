import type { z } from 'zod';
import { AppError } from '../errors/index.js';
import type { ErrorCodes } from './error-envelope.js';

/** `events[0].event_type` style field names from a zod issue path. */
export function fieldName(path: ReadonlyArray<PropertyKey>, fallback = 'body'): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out || fallback;
}

/** Parses request input at the edge; failures become the service's validation error with details. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  codes: Pick<ErrorCodes, 'validation' | 'validationMessage'>,
  fallbackField = 'body',
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error, codes, fallbackField);
}

/** The service's validation error for a zod failure, one detail per issue. */
export function validationError(
  error: z.ZodError,
  codes: Pick<ErrorCodes, 'validation' | 'validationMessage'>,
  fallbackField = 'body',
): AppError {
  return new AppError('validation', {
    code: codes.validation,
    message: codes.validationMessage,
    details: error.issues.map((issue) => ({
      field: fieldName(issue.path, fallbackField),
      message: issue.message,
    })),
  });
}
