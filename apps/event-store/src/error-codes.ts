import { EventStoreErrorCode } from '@k1s0/eventstore-domain';
import type { ErrorCodes } from '@k1s0/platform';

/** SPEC §4 / spec 002: every error code of this service starts with SYS_EVSTORE_. */
export const eventStoreErrorCodes: ErrorCodes = {
  prefix: 'SYS_EVSTORE_',
  validation: EventStoreErrorCode.VALIDATION_ERROR,
  validationMessage: 'request validation failed',
};
