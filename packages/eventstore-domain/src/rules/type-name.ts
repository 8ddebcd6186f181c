import { isStorableText } from '@k1s0/platform/errors';
import { UNSTORABLE_TEXT } from './storable-text.js';
import type { Violations } from './violations.js';

/** Upper bound for `event_type` and `aggregate_type`; the columns are TEXT, this keeps them sane. */
export const MAX_TYPE_NAME_LENGTH = 255;

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
