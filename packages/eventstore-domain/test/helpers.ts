import { AppError } from '@k1s0/platform/errors';

/** The AppError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the promise to reject with an AppError');
}

/** The AppError a function throws synchronously. */
export function thrownBy(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the function to throw an AppError');
}

/** A client-side UUID that is recognisable in assertions: aaaaaaaa-…-00000000000n. */
export function clientId(n: number): string {
  return `aaaaaaaa-aaaa-4aaa-8aaa-${n.toString().padStart(12, '0')}`;
}
