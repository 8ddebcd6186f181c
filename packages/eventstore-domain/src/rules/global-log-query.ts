import { checkSequenceInRange } from './ranges.js';
import { checkTypeName } from './type-name.js';
import type { Violations } from './violations.js';

/**
 * `from_sequence` of ReadAll / SubscribeAll: the first sequence to return, inclusive; 0 (the default)
 * means from the beginning, like 1, since sequences start at 1.
 */
export function resolveFromSequence(violations: Violations, fromSequence: bigint | undefined): bigint {
  const value = fromSequence ?? 0n;
  checkSequenceInRange(violations, 'from_sequence', value, 0n);
  return value;
}

/**
 * Event-type filter: empty = every type; each entry a valid type name. Duplicates are dropped.
 * Violations name `field` as the caller knows it: gRPC's repeated `event_types` as
 * `event_types[i]`, REST's `event_type` query parameter by its own name.
 */
export function resolveEventTypes(
  violations: Violations,
  eventTypes: readonly string[] | undefined,
  field: 'event_types' | 'event_type' = 'event_types',
): string[] {
  const types = eventTypes ?? [];
  types.forEach((type, index) => {
    checkTypeName(violations, field === 'event_types' ? `event_types[${index}]` : field, type);
  });
  return [...new Set(types)];
}
