/** One aggregate's event stream (table `event_streams`). */
export interface EventStream {
  /** 1–255 chars of `[A-Za-z0-9_.:@-]`, e.g. `order-order-001`. */
  id: string;
  /** Set when the stream is created; later appends never change it. */
  aggregateType: string;
  /** Version of the last event; versions run 1, 2, 3… without gaps. */
  currentVersion: number;
  createdAt: Date;
  /** Time of the last append. */
  updatedAt: Date;
}
