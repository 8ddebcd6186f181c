import { INT32_MAX, isIntegerIn, type Violations } from './validation.js';

/** The optimistic-locking version a write sends: 0 (= "the key must not exist") or the current one. */
export function checkExpectedVersion(violations: Violations, version: unknown, field = 'version'): void {
  if (version === undefined) violations.add(field, 'version フィールドは必須です');
  else if (!isIntegerIn(version, 0, INT32_MAX))
    violations.add(field, 'version は 0 以上の整数で指定してください');
}

/** A version an entry once had (rollback target): versions start at 1. */
export function checkExistingVersion(violations: Violations, version: unknown, field = 'to_version'): void {
  if (version === undefined) violations.add(field, `${field} フィールドは必須です`);
  else if (!isIntegerIn(version, 1, INT32_MAX))
    violations.add(field, `${field} は 1 以上の整数で指定してください`);
}
