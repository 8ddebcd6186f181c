import type { ConfigChange, PendingConfigChange } from './config-change.js';
import type { ConfigEntry } from './config-entry.js';

/**
 * What a secret value reads as for a caller who may not see it (SPEC §8): the JSON string
 * `"[redacted]"`, so the field keeps its JSON type "any value" and parsers need no special case.
 */
export const REDACTED = '[redacted]';

/** The entry as a caller sees it: secret values replaced unless `reveal`. */
export function entryFor(entry: ConfigEntry, reveal: boolean): ConfigEntry {
  return entry.secret && !reveal ? { ...entry, value: REDACTED } : entry;
}

/**
 * The feed hands one change object to every watch stream; its redacted copy is made once and
 * shared too, so per-change work downstream (e.g. encoding the gRPC message) stays per change.
 */
const redactedChanges = new WeakMap<PendingConfigChange, PendingConfigChange>();

/**
 * The change as a caller sees it: both values of a secret change replaced unless `reveal`. Also
 * what leaves the service in events (the Kafka ConfigChangedEvent is never revealed).
 */
export function changeFor<C extends PendingConfigChange | ConfigChange>(change: C, reveal: boolean): C {
  if (!change.secret || reveal) return change;
  let redacted = redactedChanges.get(change) as C | undefined;
  if (redacted === undefined) {
    redacted = {
      ...change,
      oldValue: change.oldValue === null ? null : REDACTED,
      newValue: change.newValue === null ? null : REDACTED,
    };
    redactedChanges.set(change, redacted);
  }
  return redacted;
}
