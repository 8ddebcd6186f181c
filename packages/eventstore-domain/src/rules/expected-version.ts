import { EXPECT_ANY } from '../model/expected-version.js';
import type { Violations } from './violations.js';

/** `n ≥ 0`, -1 (no stream) or -2 (any); anything else is invalid. */
export function checkExpectedVersion(violations: Violations, expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < EXPECT_ANY) {
    violations.add('expected_version', 'must be a version >= 0, -1 (stream must not exist) or -2 (any)');
  }
}
