/**
 * The wire form of a timestamp (REST, gRPC): RFC 3339 UTC with milliseconds and an explicit
 * offset, `2026-02-23T10:00:00.000+00:00` (design 002's examples).
 */
export function formatTimestamp(date: Date): string {
  return wireTimestampOfIso(date.toISOString());
}

/** formatTimestamp from the date's toISOString() (when the caller has it already). */
export function wireTimestampOfIso(iso: string): string {
  // toISOString always ends in 'Z'; slicing is much cheaper than a regex on the streaming paths.
  return `${iso.slice(0, -1)}+00:00`;
}
