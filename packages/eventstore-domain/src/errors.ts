import { AppError, type ErrorDetail } from '@k1s0/platform/errors';

/** Error codes of the event store, without the `SYS_EVSTORE_` prefix the edge adds. */
export const EventStoreErrorCode = {
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  STREAM_NOT_FOUND: 'STREAM_NOT_FOUND',
  EVENT_NOT_FOUND: 'EVENT_NOT_FOUND',
  SNAPSHOT_NOT_FOUND: 'SNAPSHOT_NOT_FOUND',
  VERSION_CONFLICT: 'VERSION_CONFLICT',
  STREAM_ALREADY_EXISTS: 'STREAM_ALREADY_EXISTS',
  /** Extension: an event id is already stored in the stream and the append is not an exact retry. */
  DUPLICATE_EVENT_ID: 'DUPLICATE_EVENT_ID',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** A request over a size limit: the same code as REST's body-limit 413. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
} as const;

/** Factories for every error the use cases throw. */
export const eventStoreErrors = {
  validationFailed: (details: ErrorDetail[]) => {
    const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
    return new AppError('validation', {
      code: EventStoreErrorCode.VALIDATION_ERROR,
      message: `invalid request: ${summary}`,
      details,
    });
  },

  streamNotFound: (streamId: string) =>
    new AppError('not_found', {
      code: EventStoreErrorCode.STREAM_NOT_FOUND,
      message: `stream not found: ${streamId}`,
    }),

  eventNotFound: (streamId: string, sequence: bigint) =>
    new AppError('not_found', {
      code: EventStoreErrorCode.EVENT_NOT_FOUND,
      message: `event not found: stream ${streamId}, sequence ${sequence}`,
    }),

  /**
   * The stream is outside the caller's scopes (SPEC §8). Thrown before any lookup, so the answer is
   * the same whether or not the stream exists.
   */
  streamOutOfScope: (streamId: string) =>
    new AppError('permission_denied', {
      code: EventStoreErrorCode.PERMISSION_DENIED,
      message: `stream ${streamId} is outside the caller's scopes`,
    }),

  snapshotNotFound: (streamId: string) =>
    new AppError('not_found', {
      code: EventStoreErrorCode.SNAPSHOT_NOT_FOUND,
      message: `no snapshot found for stream: ${streamId}`,
    }),

  /** Exactly the 409 body of spec 002. */
  versionConflict: (streamId: string, expected: number, actual: number) =>
    new AppError('conflict', {
      code: EventStoreErrorCode.VERSION_CONFLICT,
      message: `version conflict for stream ${streamId}: expected ${expected}, actual ${actual}`,
      details: [
        { field: 'expected_version', message: String(expected) },
        { field: 'actual_version', message: String(actual) },
      ],
    }),

  streamAlreadyExists: (streamId: string, actual: number) =>
    new AppError('already_exists', {
      code: EventStoreErrorCode.STREAM_ALREADY_EXISTS,
      message: `stream already exists: ${streamId}`,
      details: [
        { field: 'expected_version', message: '-1' },
        { field: 'actual_version', message: String(actual) },
      ],
    }),

  duplicateEventId: (streamId: string, index: number, eventId: string, storedVersion: number) =>
    new AppError('conflict', {
      code: EventStoreErrorCode.DUPLICATE_EVENT_ID,
      message: `event ${eventId} is already stored in stream ${streamId} at version ${storedVersion}, and this append is not a retry of that one`,
      details: [
        { field: `events[${index}].event_id`, message: `already stored at version ${storedVersion}` },
      ],
    }),

  /** 413 / RESOURCE_EXHAUSTED naming the field over `limit` bytes. */
  payloadTooLarge: (field: string, bytes: number, limit: number) =>
    new AppError('payload_too_large', {
      code: EventStoreErrorCode.PAYLOAD_TOO_LARGE,
      message: `${field} is ${bytes} bytes, over the limit of ${limit} bytes`,
      details: [{ field, message: `at most ${limit} bytes (serialized JSON), got ${bytes}` }],
    }),
} as const;
