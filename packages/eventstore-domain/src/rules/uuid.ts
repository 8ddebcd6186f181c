const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any RFC 9562 textual UUID (any version), case-insensitive. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** One spelling per UUID, so a retry that changes letter case is still recognised as the same event. */
export function normalizeUuid(value: string): string {
  return value.toLowerCase();
}
