import { AppError, type ErrorDetail, type ErrorKind } from '@k1s0/platform/errors';
import { expect } from 'vitest';

/** Awaits `action`, expecting it to fail with this AppError kind/code (and, if given, details). */
export async function expectAppError(
  action: Promise<unknown> | (() => unknown),
  kind: ErrorKind,
  code: string,
  details?: ErrorDetail[],
): Promise<AppError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect({ kind: error.kind, code: error.code }).toEqual({ kind, code });
  if (details !== undefined) expect(error.details).toEqual(details);
  return error;
}

/** The fields named by a VALIDATION_FAILED error. */
export async function validationFields(action: Promise<unknown> | (() => unknown)): Promise<string[]> {
  const error = await expectAppError(action, 'validation', 'VALIDATION_FAILED');
  expect(error.message).toBe('リクエストのバリデーションに失敗しました');
  return error.details.map((d) => d.field);
}
