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
}

export const defaultEventStoreLimits: Readonly<EventStoreLimits> = Object.freeze({
  maxEventsPerAppend: 100,
  maxPageSize: 200,
  defaultPageSize: 50,
  maxReadAllLimit: 1000,
  defaultReadAllLimit: 100,
});

/** Fills the limits a caller did not set with the defaults. */
export function resolveLimits(overrides: Partial<EventStoreLimits> = {}): EventStoreLimits {
  return { ...defaultEventStoreLimits, ...overrides };
}
