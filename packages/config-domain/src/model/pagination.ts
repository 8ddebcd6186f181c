/** Page metadata as REST `pagination` and proto `PaginationResult` carry it. */
export interface PageInfo {
  readonly totalCount: number;
  readonly page: number;
  readonly pageSize: number;
  readonly hasNext: boolean;
}

/** Offset window handed to repositories. */
export interface PageWindow {
  readonly offset: number;
  readonly limit: number;
}

export function pageInfo(page: number, pageSize: number, totalCount: number): PageInfo {
  return { totalCount, page, pageSize, hasNext: page * pageSize < totalCount };
}
