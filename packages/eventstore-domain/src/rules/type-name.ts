import { isStorableText, unstorableTextPath } from '@k1s0/platform/errors';
import type { Violations } from './violations.js';

/** Upper bound for `event_type` and `aggregate_type`; the columns are TEXT, this keeps them sane. */
export const MAX_TYPE_NAME_LENGTH = 255;

/** What a field holding text PostgreSQL cannot store is told. */
export const UNSTORABLE_TEXT = 'must not contain U+0000 or unpaired surrogates';

/** Checks that a JSON value (payload, metadata, state) holds only text PostgreSQL can store. */
export function checkStorableJson(violations: Violations, field: string, value: unknown): void {
  const where = unstorableTextPath(value);
  if (where !== undefined) violations.add(`${field}${where}`, UNSTORABLE_TEXT);
}

/** Event and aggregate type names: 1–255 characters, not only whitespace, storable. */
export function checkTypeName(violations: Violations, field: string, value: string): void {
  if (value.trim().length === 0) {
    violations.add(field, 'must not be empty');
  } else if (value.length > MAX_TYPE_NAME_LENGTH) {
    violations.add(field, `must be at most ${MAX_TYPE_NAME_LENGTH} characters`);
  } else if (!isStorableText(value)) {
    violations.add(field, UNSTORABLE_TEXT);
  }
}
