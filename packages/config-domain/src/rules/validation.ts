import { ViolationCollector } from '@k1s0/platform/errors';
import { configErrors } from '../errors.js';

/**
 * The config domain's collector: rules are `checkX(violations, …)`, and `throwIfAny()` throws one
 * VALIDATION_FAILED listing every problem found, so the caller fixes them in one go.
 */
export class Violations extends ViolationCollector {
  constructor() {
    super(configErrors.validationFailed);
  }
}

/** Integer within [min, max]; also rejects NaN and non-numbers an adapter may pass through. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** proto int32 bound: versions and page numbers travel as int32 over gRPC. */
export const INT32_MAX = 2_147_483_647;

/** What a field holding text PostgreSQL cannot store (U+0000, unpaired surrogates) is told; `label` names the spot. */
export function unstorableTextMessage(label: string): string {
  return `${label} に U+0000 や対になっていないサロゲートは含められません`;
}
