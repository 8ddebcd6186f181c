import { AppError, type ErrorDetail } from '@k1s0/platform/errors';

/** Error codes of the event store, without the `SYS_EVSTORE_` prefix the edge adds. */
export const EventStoreErrorCode = {
  validation: 'VALIDATION_ERROR',
  streamNotFound: 'STREAM_NOT_FOUND',
  eventNotFound: 'EVENT_NOT_FOUND',
  snapshotNotFound: 'SNAPSHOT_NOT_FOUND',
  versionConflict: 'VERSION_CONFLICT',
  streamAlreadyExists: 'STREAM_ALREADY_EXISTS',
  /** Extension: an event id is already stored in the stream and the append is not an exact retry. */
  duplicateEventId: 'DUPLICATE_EVENT_ID',
  permissionDenied: 'PERMISSION_DENIED',
} as const;

export function validationFailed(details: ErrorDetail[]): AppError {
  const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  return new AppError('validation', {
    code: EventStoreErrorCode.validation,
    message: `invalid request: ${summary}`,
    details,
  });
}

export function streamNotFound(streamId: string): AppError {
  return new AppError('not_found', {
    code: EventStoreErrorCode.streamNotFound,
    message: `stream not found: ${streamId}`,
  });
}

export function eventNotFound(streamId: string, sequence: bigint): AppError {
  return new AppError('not_found', {
    code: EventStoreErrorCode.eventNotFound,
    message: `event not found: stream ${streamId}, sequence ${sequence}`,
  });
}

/**
 * The stream is outside the caller's scopes (SPEC §8). Thrown before any lookup, so the answer is
 * the same whether or not the stream exists.
 */
export function streamOutOfScope(streamId: string): AppError {
  return new AppError('permission_denied', {
    code: EventStoreErrorCode.permissionDenied,
    message: `stream ${streamId} is outside the caller's scopes`,
  });
}

export function snapshotNotFound(streamId: string): AppError {
  return new AppError('not_found', {
    code: EventStoreErrorCode.snapshotNotFound,
    message: `no snapshot found for stream: ${streamId}`,
  });
}

/** Exactly the 409 body of spec 002. */
export function versionConflict(streamId: string, expected: number, actual: number): AppError {
  return new AppError('conflict', {
    code: EventStoreErrorCode.versionConflict,
    message: `version conflict for stream ${streamId}: expected ${expected}, actual ${actual}`,
    details: [
      { field: 'expected_version', message: String(expected) },
      { field: 'actual_version', message: String(actual) },
    ],
  });
}

export function streamAlreadyExists(streamId: string, actual: number): AppError {
  return new AppError('already_exists', {
    code: EventStoreErrorCode.streamAlreadyExists,
    message: `stream already exists: ${streamId}`,
    details: [
      { field: 'expected_version', message: '-1' },
      { field: 'actual_version', message: String(actual) },
    ],
  });
}

export function duplicateEventId(
  streamId: string,
  index: number,
  eventId: string,
  storedVersion: number,
): AppError {
  return new AppError('conflict', {
    code: EventStoreErrorCode.duplicateEventId,
    message: `event ${eventId} is already stored in stream ${streamId} at version ${storedVersion}, and this append is not a retry of that one`,
    details: [{ field: `events[${index}].event_id`, message: `already stored at version ${storedVersion}` }],
  });
}
