/** One message for the event bus; `key` decides the partition, hence per-key order. */
export interface OutboxMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
}

/** Where the relay sends outbox rows (Kafka in production, an in-memory double in tests). */
export interface Publisher {
  /** Resolves only once every message is acknowledged; all or nothing from the caller's view. */
  publish(messages: OutboxMessage[]): Promise<void>;
  /** Readiness check of the broker connection. */
  ping?(): Promise<void>;
  close(): Promise<void>;
}
