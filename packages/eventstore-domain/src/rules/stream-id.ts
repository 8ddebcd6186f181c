import type { Violations } from './violations.js';

const STREAM_ID = /^[A-Za-z0-9_.:@-]{1,255}$/;

export function isValidStreamId(streamId: string): boolean {
  return STREAM_ID.test(streamId);
}

export function checkStreamId(violations: Violations, streamId: string): void {
  if (!isValidStreamId(streamId)) {
    violations.add('stream_id', 'must be 1-255 characters of [A-Za-z0-9_.:@-]');
  }
}

/**
 * Aggregate type used when an append names none: the stream id up to its first '-'
 * (`order-order-001` → `order`), or the whole id when there is no '-' or it leads the id.
 */
export function defaultAggregateType(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}
