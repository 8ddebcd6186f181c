import { EXPECT_ANY, EXPECT_NO_STREAM, type ExpectedVersion } from '../model/expected-version.js';
import type { StoredEvent } from '../model/stored-event.js';

/** What an adapter has read, under its per-stream lock, before deciding an append. */
export interface AppendState {
  /** The stream's row, or null when the stream does not exist. */
  stream: { currentVersion: number } | null;
  /** The events of THIS stream whose `eventId` is among the request's ids (any order; usually none). */
  alreadyStored: readonly StoredEvent[];
}

export type AppendDecision =
  /** Insert the events as versions firstVersion…currentVersion (creating the stream row if asked). */
  | { kind: 'append'; firstVersion: number; currentVersion: number; createStream: boolean }
  /** The request is an exact retry of an earlier append: answer with what that append stored. */
  | { kind: 'duplicate'; events: StoredEvent[]; currentVersion: number }
  | { kind: 'version_conflict'; actualVersion: number }
  /** expected_version was -1 and the stream exists. */
  | { kind: 'stream_exists'; actualVersion: number }
  /** Some request id is already in the stream, but not as an exact retry (partial overlap, other order, other expected_version). */
  | { kind: 'event_id_conflict'; index: number; eventId: string; storedVersion: number };

/**
 * The append rule of SPEC §6, as a pure function so every adapter decides identically. Adapters call
 * it inside the append transaction, after locking the stream and reading `state`, and insert only on
 * `append`. Retry detection comes first: a retry of a successful append must get the original answer
 * even though the stream has since moved past `expectedVersion` (or now exists, for -1).
 *
 * An exact retry is: every request id is stored, in request order, at consecutive versions starting
 * where `expectedVersion` put them (n → n+1, -1 → 1, -2 → anywhere). Payloads are not compared;
 * event ids are the identity of an event.
 */
export function decideAppend(
  expectedVersion: ExpectedVersion,
  eventIds: readonly string[],
  state: AppendState,
): AppendDecision {
  if (state.alreadyStored.length > 0) {
    return decideAgainstStoredIds(expectedVersion, eventIds, state.alreadyStored);
  }
  const actualVersion = state.stream?.currentVersion ?? 0;
  if (expectedVersion === EXPECT_NO_STREAM && state.stream !== null) {
    return { kind: 'stream_exists', actualVersion };
  }
  if (expectedVersion >= 0 && expectedVersion !== actualVersion) {
    return { kind: 'version_conflict', actualVersion };
  }
  return {
    kind: 'append',
    firstVersion: actualVersion + 1,
    currentVersion: actualVersion + eventIds.length,
    createStream: state.stream === null,
  };
}

function decideAgainstStoredIds(
  expectedVersion: ExpectedVersion,
  eventIds: readonly string[],
  alreadyStored: readonly StoredEvent[],
): AppendDecision {
  const stored = [...alreadyStored].sort((a, b) => a.version - b.version);
  const first = stored[0]!.version;
  const isExactRetry =
    stored.length === eventIds.length &&
    stored.every((event, i) => event.eventId === eventIds[i] && event.version === first + i) &&
    startsWhereExpected(expectedVersion, first);
  if (isExactRetry) {
    return { kind: 'duplicate', events: stored, currentVersion: stored[stored.length - 1]!.version };
  }
  const versionById = new Map(stored.map((event) => [event.eventId, event.version]));
  const index = eventIds.findIndex((id) => versionById.has(id));
  const eventId = eventIds[index]!;
  return { kind: 'event_id_conflict', index, eventId, storedVersion: versionById.get(eventId)! };
}

function startsWhereExpected(expectedVersion: ExpectedVersion, firstVersion: number): boolean {
  if (expectedVersion === EXPECT_ANY) return true;
  if (expectedVersion === EXPECT_NO_STREAM) return firstVersion === 1;
  return firstVersion === expectedVersion + 1;
}
