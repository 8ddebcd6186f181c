import { INT32_MAX, isIntegerIn, type Problem } from './validation.js';

/** The optimistic-locking version a write sends: 0 (= "the key must not exist") or the current one. */
export function expectedVersionProblem(version: unknown, field = 'version'): Problem {
  if (version === undefined) return { field, message: 'version フィールドは必須です' };
  if (!isIntegerIn(version, 0, INT32_MAX))
    return { field, message: 'version は 0 以上の整数で指定してください' };
  return undefined;
}

/** A version an entry once had (rollback target): versions start at 1. */
export function existingVersionProblem(version: unknown, field = 'to_version'): Problem {
  if (version === undefined) return { field, message: `${field} フィールドは必須です` };
  if (!isIntegerIn(version, 1, INT32_MAX))
    return { field, message: `${field} は 1 以上の整数で指定してください` };
  return undefined;
}
