import { ViolationCollector } from '@k1s0/platform/errors';
import { eventStoreErrors } from '../errors.js';

/** The event store's collector: `throwIfAny()` throws one VALIDATION_ERROR listing every violation. */
export class Violations extends ViolationCollector {
  constructor() {
    super(eventStoreErrors.validationFailed);
  }
}
