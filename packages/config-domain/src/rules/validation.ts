import type { ErrorDetail } from '@k1s0/platform/errors';
import { configErrors } from '../errors.js';

/** A rule's verdict on one field: a detail naming the field, or `undefined` when it passes. */
export type Problem = ErrorDetail | undefined;

/** Throws VALIDATION_FAILED listing every problem found, so the caller fixes them in one go. */
export function assertValid(...problems: readonly (Problem | readonly Problem[])[]): void {
  const details = problems.flat().filter((p): p is ErrorDetail => p !== undefined);
  if (details.length > 0) throw configErrors.validationFailed(details);
}

/** Integer within [min, max]; also rejects NaN and non-numbers an adapter may pass through. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** proto int32 bound: versions and page numbers travel as int32 over gRPC. */
export const INT32_MAX = 2_147_483_647;

/** `label` holds text PostgreSQL cannot store (U+0000, unpaired surrogates): reported on `field`. */
export function unstorableTextProblem(field: string, label = field): ErrorDetail {
  return { field, message: `${label} に U+0000 や対になっていないサロゲートは含められません` };
}
