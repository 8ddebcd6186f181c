import type { PageWindow } from '../model/pagination.js';
import { INT32_MAX, isIntegerIn, type Violations } from './validation.js';

export const DEFAULT_PAGE = 1;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Page request as callers send it; `undefined` means "use the default". */
export interface PageRequest {
  readonly page?: number | undefined;
  readonly pageSize?: number | undefined;
}

export interface ResolvedPage extends PageWindow {
  readonly page: number;
  readonly pageSize: number;
}

/**
 * Applies defaults and checks `page` ≥ 1 and `page_size` 1..100 into `violations`. The result is
 * meaningful only when no violation was recorded.
 */
export function resolvePage(violations: Violations, request: PageRequest): ResolvedPage {
  const page = request.page ?? DEFAULT_PAGE;
  const pageSize = request.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!isIntegerIn(page, 1, INT32_MAX)) violations.add('page', 'page は 1 以上の整数で指定してください');
  if (!isIntegerIn(pageSize, 1, MAX_PAGE_SIZE)) {
    violations.add('page_size', `page_size は 1〜${MAX_PAGE_SIZE} の整数で指定してください`);
  }
  return { page, pageSize, offset: (page - 1) * pageSize, limit: pageSize };
}
