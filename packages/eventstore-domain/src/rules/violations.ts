import type { ErrorDetail } from '@k1s0/platform/errors';
import { eventStoreErrors } from '../errors.js';

/**
 * Collects every rule a request breaks so one VALIDATION_ERROR names all bad fields at once,
 * instead of making the client fix them one round-trip at a time.
 */
export class Violations {
  private readonly details: ErrorDetail[] = [];

  add(field: string, message: string): void {
    this.details.push({ field, message });
  }

  get isEmpty(): boolean {
    return this.details.length === 0;
  }

  throwIfAny(): void {
    if (!this.isEmpty) throw eventStoreErrors.validationFailed(this.details);
  }
}
