import type { Violations } from './violations.js';

/** Records a violation unless `value` is an integer in [min, max]; returns whether it is. */
export function checkIntegerInRange(
  violations: Violations,
  field: string,
  value: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): boolean {
  if (!Number.isSafeInteger(value)) {
    violations.add(field, 'must be an integer');
    return false;
  }
  if (value < min || value > max) {
    violations.add(
      field,
      max === Number.MAX_SAFE_INTEGER ? `must be >= ${min}` : `must be between ${min} and ${max}`,
    );
    return false;
  }
  return true;
}

/** Largest value of a Postgres BIGINT, the type of `events.sequence`. */
export const MAX_SEQUENCE = 2n ** 63n - 1n;

export function checkSequenceInRange(
  violations: Violations,
  field: string,
  value: bigint,
  min: bigint,
): boolean {
  if (value < min || value > MAX_SEQUENCE) {
    violations.add(field, `must be between ${min} and ${MAX_SEQUENCE}`);
    return false;
  }
  return true;
}
