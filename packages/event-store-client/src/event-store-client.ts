import { randomUUID } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import {
  authInterceptor,
  type BackoffOptions,
  backoffDelay,
  isTransient,
  sleep,
  type TokenOptions,
  toK1s0Error,
  tokenGetter,
} from '@k1s0/client-kit';
import {
  EventStoreService,
  type StoredEvent as StoredEventMessage,
} from '@k1s0/proto/k1s0/system/eventstore/v1/event_store_pb';
import type { CheckpointStore } from './checkpoint.js';
import type { AppendResult, ExpectedVersion, JsonValue, NewEvent, StoredEvent } from './types.js';

export interface EventStoreClientOptions extends TokenOptions {
  /** event-store base URL (its REST port, which also speaks the Connect protocol), e.g. http://localhost:8099 */
  readonly baseUrl: string;
  /** Attempts per append / read call on transient failures (default 5). */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  /** Per-call deadline in ms for unary calls (default 30 000). */
  readonly timeoutMs?: number;
}

export interface ReadOptions {
  readonly fromVersion?: number;
  readonly toVersion?: number;
  readonly eventType?: string;
  /** Events per page, 1–200 (default 100). */
  readonly pageSize?: number;
}

export interface SubscribeOptions {
  /**
   * First sequence to deliver when the checkpoint holds nothing (default 0 = the beginning).
   * With a stored checkpoint, delivery starts right after it.
   */
  readonly from?: number;
  /** Remembers the last event the consumer finished with (saved when it asks for the next one). */
  readonly checkpoint?: CheckpointStore;
  readonly eventTypes?: readonly string[];
  /** Ends the subscription. */
  readonly signal?: AbortSignal;
}

export interface Aggregate<S> {
  readonly state: S;
  /** Stream version the state reflects (0 = no events). */
  readonly version: number;
  /** Version of the snapshot it started from, undefined when it folded every event. */
  readonly fromSnapshot: number | undefined;
}

export interface EventStoreClient {
  /**
   * Appends atomically. Event ids are generated once, so a transient failure (unavailable, reset
   * connection, deadline) is retried with the same ids and expected version: the server answers
   * a repeat with the original result instead of writing twice.
   */
  append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion; aggregateType?: string },
  ): Promise<AppendResult>;
  /** A stream's events, page by page (each item is one page, ascending by version). */
  read(streamId: string, options?: ReadOptions): AsyncIterable<StoredEvent[]>;
  /** One page of the global log from a sequence (inclusive). */
  readAll(
    fromSequence: number,
    options?: { limit?: number; eventTypes?: readonly string[] },
  ): Promise<{ events: StoredEvent[]; nextSequence: number }>;
  /**
   * The global log from `from` (or the checkpoint), catch-up then live. After a disconnect it
   * reconnects (backoff with jitter) from the sequence after the last delivered event: no gap,
   * no duplicate.
   */
  subscribeAll(options?: SubscribeOptions): AsyncIterable<StoredEvent>;
  /** Folds a stream into state, starting from its latest snapshot when there is one. */
  aggregate<S>(
    streamId: string,
    evolve: (state: S, event: StoredEvent) => S,
    initial: S,
  ): Promise<Aggregate<S>>;
  createSnapshot(streamId: string, version: number, state: JsonValue, aggregateType?: string): Promise<void>;
  deleteStream(streamId: string): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encodeJson = (value: JsonValue) => encoder.encode(JSON.stringify(value));
const decodeJson = (bytes: Uint8Array): JsonValue =>
  bytes.length === 0 ? null : JSON.parse(decoder.decode(bytes));

function storedEvent(m: StoredEventMessage): StoredEvent {
  return {
    id: m.eventId,
    streamId: m.streamId,
    sequence: Number(m.sequence),
    version: Number(m.version),
    type: m.eventType,
    data: decodeJson(m.payloadJson),
    metadata: {
      ...(m.metadata?.actorId === undefined ? {} : { actorId: m.metadata.actorId }),
      ...(m.metadata?.correlationId === undefined ? {} : { correlationId: m.metadata.correlationId }),
      ...(m.metadata?.causationId === undefined ? {} : { causationId: m.metadata.causationId }),
    },
    occurredAt: m.occurredAt,
    storedAt: m.storedAt,
  };
}

const expectedVersionNumber = (v: ExpectedVersion): bigint =>
  v === 'no_stream' ? -1n : v === 'any' ? -2n : BigInt(v);

export function createEventStoreClient(options: EventStoreClientOptions): EventStoreClient {
  const getToken = tokenGetter(options);
  const rpc = createClient(
    EventStoreService,
    createConnectTransport({
      baseUrl: options.baseUrl,
      httpVersion: '1.1',
      interceptors: [authInterceptor(getToken)],
    }),
  );
  const maxAttempts = options.maxAttempts ?? 5;
  const timeoutMs = options.timeoutMs ?? 30_000;

  /** Runs a unary call, retrying transient failures; only for calls that are safe to repeat. */
  async function withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt + 1 >= maxAttempts || !isTransient(error)) throw toK1s0Error(error);
        await sleep(backoffDelay(attempt, options.backoff));
      }
    }
  }

  const client: EventStoreClient = {
    async append(streamId, events, o) {
      // Ids fixed before the first attempt: every retry is the same request.
      const request = {
        streamId,
        expectedVersion: expectedVersionNumber(o.expectedVersion),
        ...(o.aggregateType === undefined ? {} : { aggregateType: o.aggregateType }),
        events: events.map((e) => ({
          eventType: e.type,
          payloadJson: encodeJson(e.data),
          eventId: e.id ?? randomUUID(),
          ...(e.metadata === undefined ? {} : { metadata: { ...e.metadata } }),
        })),
      };
      const response = await withRetry(() => rpc.appendEvents(request, { timeoutMs }));
      return {
        streamId: response.streamId,
        events: response.events.map(storedEvent),
        currentVersion: Number(response.currentVersion),
      };
    },

    async *read(streamId, o = {}) {
      const pageSize = o.pageSize ?? 100;
      // Paging by from_version (not page numbers): a page is never shifted by concurrent appends.
      let fromVersion = o.fromVersion ?? 1;
      for (;;) {
        const response = await withRetry(() =>
          rpc.readEvents(
            {
              streamId,
              fromVersion: BigInt(fromVersion),
              page: 1,
              pageSize,
              ...(o.toVersion === undefined ? {} : { toVersion: BigInt(o.toVersion) }),
              ...(o.eventType === undefined ? {} : { eventType: o.eventType }),
            },
            { timeoutMs },
          ),
        );
        const page = response.events.map(storedEvent);
        if (page.length > 0) yield page;
        const last = page.at(-1);
        if (!response.hasNext || last === undefined) return;
        fromVersion = last.version + 1;
      }
    },

    async readAll(fromSequence, o = {}) {
      const response = await withRetry(() =>
        rpc.readAll(
          {
            fromSequence: BigInt(fromSequence),
            limit: o.limit ?? 100,
            eventTypes: [...(o.eventTypes ?? [])],
          },
          { timeoutMs },
        ),
      );
      return { events: response.events.map(storedEvent), nextSequence: Number(response.nextSequence) };
    },

    async *subscribeAll(o = {}) {
      const stored = await o.checkpoint?.load();
      let next = stored === undefined ? (o.from ?? 0) : stored + 1;
      for (let attempt = 0; !o.signal?.aborted; ) {
        try {
          const stream = rpc.subscribeAll(
            { fromSequence: BigInt(next), eventTypes: [...(o.eventTypes ?? [])] },
            { ...(o.signal ? { signal: o.signal } : {}), onHeader: () => (attempt = 0) },
          );
          for await (const message of stream) {
            if (message.event === undefined) continue;
            const event = storedEvent(message.event);
            // A reconnect starts at `next`; anything lower would be a repeat.
            if (event.sequence < next) continue;
            next = event.sequence + 1;
            yield event;
            // The consumer asked for more: it is done with `event`.
            await o.checkpoint?.save(event.sequence);
          }
        } catch (error) {
          if (o.signal?.aborted) return;
          if (!isTransient(error)) throw toK1s0Error(error);
        }
        await sleep(backoffDelay(attempt++, options.backoff), o.signal);
      }
    },

    async aggregate<S>(streamId: string, evolve: (state: S, event: StoredEvent) => S, initial: S) {
      let state = initial;
      let version = 0;
      let fromSnapshot: number | undefined;
      try {
        const { snapshot } = await withRetry(() => rpc.getLatestSnapshot({ streamId }, { timeoutMs }));
        if (snapshot !== undefined) {
          state = decodeJson(snapshot.stateJson) as S;
          version = Number(snapshot.snapshotVersion);
          fromSnapshot = version;
        }
      } catch (error) {
        if (toK1s0Error(error).kind !== 'not_found') throw error;
      }
      try {
        for await (const page of client.read(streamId, { fromVersion: version + 1 }))
          for (const event of page) {
            state = evolve(state, event);
            version = event.version;
          }
      } catch (error) {
        if (toK1s0Error(error).kind !== 'not_found') throw error;
      }
      return { state, version, fromSnapshot };
    },

    async createSnapshot(streamId, version, state, aggregateType) {
      await withRetry(() =>
        rpc.createSnapshot(
          {
            streamId,
            snapshotVersion: BigInt(version),
            stateJson: encodeJson(state),
            aggregateType: aggregateType ?? '',
          },
          { timeoutMs },
        ),
      );
    },

    async deleteStream(streamId) {
      try {
        await rpc.deleteStream({ streamId }, { timeoutMs });
      } catch (error) {
        throw toK1s0Error(error);
      }
    },
  };
  return client;
}
