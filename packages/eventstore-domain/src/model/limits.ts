/** Tunables of the event store (config.yaml `event_store:`); the defaults are those of spec 002. */
export interface EventStoreLimits {
  /** Events per append: 1..maxEventsPerAppend. */
  maxEventsPerAppend: number;
  /** ReadEvents `page_size`: 1..maxPageSize. */
  maxPageSize: number;
  defaultPageSize: number;
  /** ReadAll `limit`: 1..maxReadAllLimit, default defaultReadAllLimit. */
  maxReadAllLimit: number;
  defaultReadAllLimit: number;
  /**
   * UTF-8 bytes of one event's serialized `payload` + `metadata` (and of a snapshot's `state`).
   * Below Kafka's default `message.max.bytes` (1,048,588) with room for the published envelope.
   */
  maxEventBytes: number;
  /** UTF-8 bytes of all events of one append together: design 002's REST body limit (1 MiB). */
  maxRequestBytes: number;
}

export const defaultEventStoreLimits: Readonly<EventStoreLimits> = Object.freeze({
  maxEventsPerAppend: 100,
  maxPageSize: 200,
  defaultPageSize: 50,
  maxReadAllLimit: 1000,
  defaultReadAllLimit: 100,
  maxEventBytes: 900 * 1024,
  maxRequestBytes: 1024 * 1024,
});

/** Fills the limits a caller did not set with the defaults. */
export function resolveLimits(overrides: Partial<EventStoreLimits> = {}): EventStoreLimits {
  return { ...defaultEventStoreLimits, ...overrides };
}
