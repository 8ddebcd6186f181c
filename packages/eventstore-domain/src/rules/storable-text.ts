import { unstorableTextPath } from '@k1s0/platform/errors';
import type { Violations } from './violations.js';

/** What a field holding text PostgreSQL cannot store (U+0000, unpaired surrogates) is told. */
export const UNSTORABLE_TEXT = 'must not contain U+0000 or unpaired surrogates';

/** Checks that a JSON value (payload, metadata, state) holds only text PostgreSQL can store. */
export function checkStorableJson(violations: Violations, field: string, value: unknown): void {
  const where = unstorableTextPath(value);
  if (where !== undefined) violations.add(`${field}${where}`, UNSTORABLE_TEXT);
}
