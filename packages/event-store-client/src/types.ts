export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface EventMetadata {
  readonly actorId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly causationId?: string | undefined;
}

/** An event to append. `id` (UUID) is generated once per append when absent. */
export interface NewEvent {
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata?: EventMetadata | undefined;
  readonly id?: string | undefined;
}

export interface StoredEvent {
  readonly id: string;
  readonly streamId: string;
  /** Global position (increasing, may have gaps). */
  readonly sequence: number;
  /** Position in the stream: 1, 2, 3… */
  readonly version: number;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
  readonly occurredAt: string;
  readonly storedAt: string;
}

export interface AppendResult {
  readonly streamId: string;
  readonly events: readonly StoredEvent[];
  readonly currentVersion: number;
}

/** `n` ≥ 0 exact, `'no_stream'` (-1) the stream must not exist, `'any'` (-2). */
export type ExpectedVersion = number | 'no_stream' | 'any';
