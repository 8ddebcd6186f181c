import type { EventStoreLimits } from '../model/limits.js';
import { checkIntegerInRange } from './ranges.js';
import { checkTypeName } from './type-name.js';
import type { Violations } from './violations.js';

export interface StreamReadParameters {
  /** Inclusive; default 1. 0 is accepted and means the same as 1 (versions start at 1). */
  fromVersion?: number | undefined;
  /** Inclusive; default: up to the latest. Must be ≥ fromVersion. */
  toVersion?: number | undefined;
  eventType?: string | undefined;
  /** ≥ 1; default 1. */
  page?: number | undefined;
  /** 1..maxPageSize; default defaultPageSize. */
  pageSize?: number | undefined;
}

export interface ResolvedStreamRead {
  fromVersion: number;
  toVersion: number | undefined;
  eventType: string | undefined;
  page: number;
  pageSize: number;
  offset: number;
}

/** Applies the defaults and bounds of ReadEvents (SPEC §6, spec 002 query table). */
export function resolveStreamRead(
  violations: Violations,
  parameters: StreamReadParameters,
  limits: Pick<EventStoreLimits, 'maxPageSize' | 'defaultPageSize'>,
): ResolvedStreamRead {
  const fromVersion = Math.max(parameters.fromVersion ?? 1, 1);
  if (parameters.fromVersion !== undefined) {
    checkIntegerInRange(violations, 'from_version', parameters.fromVersion, 0);
  }
  if (parameters.toVersion !== undefined) {
    checkIntegerInRange(violations, 'to_version', parameters.toVersion, fromVersion);
  }
  if (parameters.eventType !== undefined) {
    checkTypeName(violations, 'event_type', parameters.eventType);
  }
  const page = parameters.page ?? 1;
  const pageSize = parameters.pageSize ?? limits.defaultPageSize;
  const pageOk = checkIntegerInRange(violations, 'page', page, 1);
  const pageSizeOk = checkIntegerInRange(violations, 'page_size', pageSize, 1, limits.maxPageSize);
  const offset = (page - 1) * pageSize;
  if (pageOk && pageSizeOk && !Number.isSafeInteger(offset)) {
    violations.add('page', 'is too large');
  }
  return {
    fromVersion,
    toVersion: parameters.toVersion,
    eventType: parameters.eventType,
    page,
    pageSize,
    offset,
  };
}
