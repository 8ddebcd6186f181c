/**
 * In-memory implementations of the ports, honouring the same contracts the Postgres adapters must
 * (append decided by `decideAppend`, never-skip `readAll`, deletes cascading to snapshots).
 */
import type { EventStream } from '../src/model/event-stream.js';
import type { Snapshot } from '../src/model/snapshot.js';
import type { StoredEvent } from '../src/model/stored-event.js';
import type { Clock } from '../src/ports/clock.js';
import type {
  AppendOutcome,
  AppendRequest,
  DeletedStream,
  EventStore,
  GlobalLogBatch,
  GlobalLogQuery,
  StreamDeletion,
  StreamPage,
  StreamReadQuery,
} from '../src/ports/event-store.js';
import type { IdGenerator } from '../src/ports/id-generator.js';
import type { NewEventsSignal, Unsubscribe } from '../src/ports/new-events-signal.js';
import type { SaveSnapshotOutcome, SnapshotStore } from '../src/ports/snapshot-store.js';
import { decideAppend } from '../src/rules/append-decision.js';

export class FixedClock implements Clock {
  constructor(private current = new Date('2026-02-23T10:00:00.000Z')) {}

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Predictable UUIDs: 00000000-0000-4000-8000-000000000001, …02, … */
export class SequentialIds implements IdGenerator {
  private issued = 0;

  newId(): string {
    this.issued += 1;
    return `00000000-0000-4000-8000-${this.issued.toString(16).padStart(12, '0')}`;
  }
}

export class InMemoryNewEventsSignal implements NewEventsSignal {
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): Unsubscribe {
    // A wrapper per subscription so the same function subscribed twice counts twice.
    const entry = (): void => listener();
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  fire(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export interface DeletionRecord extends StreamDeletion, DeletedStream {
  streamId: string;
}

/** The tables, shared by the event store and the snapshot store as in one database. */
export class InMemoryTables {
  readonly streams = new Map<string, EventStream>();
  /** Ascending by sequence. */
  events: StoredEvent[] = [];
  snapshots: Snapshot[] = [];
  readonly deletions: DeletionRecord[] = [];
  lastSequence = 0n;
  /** Sequences taken by transactions that have not finished: readAll must not pass the lowest. */
  readonly inFlight = new Set<bigint>();
}

export class InMemoryEventStore implements EventStore {
  constructor(
    readonly tables: InMemoryTables,
    private readonly clock: Clock,
    private readonly newEvents: InMemoryNewEventsSignal,
  ) {}

  async getStream(streamId: string): Promise<EventStream | null> {
    const stream = this.tables.streams.get(streamId);
    return stream === undefined ? null : { ...stream };
  }

  // No await between reading the state and writing it: that is this fake's transaction.
  async append(request: AppendRequest): Promise<AppendOutcome> {
    const stream = this.tables.streams.get(request.streamId) ?? null;
    const ids = request.events.map((event) => event.eventId);
    const alreadyStored = this.tables.events.filter(
      (event) => event.streamId === request.streamId && ids.includes(event.eventId),
    );
    const decision = decideAppend(request.expectedVersion, ids, { stream, alreadyStored });
    if (decision.kind !== 'append') return decision;

    const now = this.clock.now();
    const stored = request.events.map((event, i): StoredEvent => {
      this.tables.lastSequence += 1n;
      return {
        streamId: request.streamId,
        sequence: this.tables.lastSequence,
        eventId: event.eventId,
        eventType: event.eventType,
        version: decision.firstVersion + i,
        payload: event.payload,
        metadata: event.metadata,
        occurredAt: event.occurredAt,
        storedAt: now,
      };
    });
    this.tables.events.push(...stored);
    this.tables.streams.set(request.streamId, {
      id: request.streamId,
      aggregateType: stream?.aggregateType ?? request.aggregateType,
      currentVersion: decision.currentVersion,
      createdAt: stream?.createdAt ?? now,
      updatedAt: now,
    });
    this.newEvents.fire();
    return { kind: 'appended', events: stored, currentVersion: decision.currentVersion };
  }

  async readStream(streamId: string, query: StreamReadQuery): Promise<StreamPage | null> {
    const stream = this.tables.streams.get(streamId);
    if (stream === undefined) return null;
    const matching = this.tables.events.filter(
      (event) =>
        event.streamId === streamId &&
        event.version >= query.fromVersion &&
        (query.toVersion === undefined || event.version <= query.toVersion) &&
        (query.eventType === undefined || event.eventType === query.eventType),
    );
    return {
      stream: { ...stream },
      events: matching.slice(query.offset, query.offset + query.limit),
      total: matching.length,
    };
  }

  async readBySequence(sequence: bigint): Promise<StoredEvent | null> {
    return this.tables.events.find((event) => event.sequence === sequence) ?? null;
  }

  async readAll(query: GlobalLogQuery): Promise<GlobalLogBatch> {
    const horizon = this.safeHorizon();
    const events: StoredEvent[] = [];
    for (const event of this.tables.events) {
      if (event.sequence < query.fromSequence || event.sequence >= horizon) continue;
      if (query.eventTypes.length > 0 && !query.eventTypes.includes(event.eventType)) continue;
      events.push(event);
      if (events.length === query.limit) {
        return { events, nextSequence: event.sequence + 1n };
      }
    }
    // Short batch: everything below the horizon has been considered, matching or not.
    // (bigints: Math.max does not apply)
    if (horizon < query.fromSequence) return { events, nextSequence: query.fromSequence };
    return { events, nextSequence: horizon };
  }

  async deleteStream(streamId: string, deletion: StreamDeletion): Promise<DeletedStream | null> {
    if (!this.tables.streams.has(streamId)) return null;
    const before = { events: this.tables.events.length, snapshots: this.tables.snapshots.length };
    this.tables.events = this.tables.events.filter((event) => event.streamId !== streamId);
    this.tables.snapshots = this.tables.snapshots.filter((snapshot) => snapshot.streamId !== streamId);
    this.tables.streams.delete(streamId);
    const deleted = {
      deletedEvents: before.events - this.tables.events.length,
      deletedSnapshots: before.snapshots - this.tables.snapshots.length,
    };
    this.tables.deletions.push({ streamId, ...deletion, ...deleted });
    return deleted;
  }

  /**
   * Simulates a transaction that has taken the next sequence but not committed: until `finish`,
   * readAll stops below it, as the Postgres adapter must. `finish()` commits nothing (a gap, like a
   * rollback); `finish(event)` commits one event of a stream of its own at that sequence.
   */
  beginInFlight(): {
    sequence: bigint;
    finish: (event?: { streamId: string; eventType: string }) => void;
  } {
    this.tables.lastSequence += 1n;
    const sequence = this.tables.lastSequence;
    this.tables.inFlight.add(sequence);
    return {
      sequence,
      finish: (event) => {
        this.tables.inFlight.delete(sequence);
        if (event !== undefined) {
          const now = this.clock.now();
          const stored: StoredEvent = {
            ...event,
            sequence,
            eventId: crypto.randomUUID(),
            version: 1,
            payload: {},
            metadata: {},
            occurredAt: now,
            storedAt: now,
          };
          // readAll walks the events in sequence order: the late commit goes before later sequences.
          const at = this.tables.events.findIndex((e) => e.sequence > sequence);
          this.tables.events.splice(at === -1 ? this.tables.events.length : at, 0, stored);
        }
        this.newEvents.fire();
      },
    };
  }

  private safeHorizon(): bigint {
    let horizon = this.tables.lastSequence + 1n;
    for (const sequence of this.tables.inFlight) if (sequence < horizon) horizon = sequence;
    return horizon;
  }
}

export class InMemorySnapshotStore implements SnapshotStore {
  constructor(readonly tables: InMemoryTables) {}

  async save(snapshot: Snapshot): Promise<SaveSnapshotOutcome> {
    if (!this.tables.streams.has(snapshot.streamId)) return { kind: 'stream_not_found' };
    this.tables.snapshots.push(snapshot);
    return { kind: 'saved' };
  }

  async latest(streamId: string): Promise<Snapshot | null> {
    let best: Snapshot | null = null;
    for (const snapshot of this.tables.snapshots) {
      if (snapshot.streamId !== streamId) continue;
      const newer =
        best === null ||
        snapshot.snapshotVersion > best.snapshotVersion ||
        (snapshot.snapshotVersion === best.snapshotVersion && snapshot.createdAt >= best.createdAt);
      if (newer) best = snapshot;
    }
    return best;
  }
}

/** Everything a use case may depend on, wired to one set of in-memory tables. */
export function createInMemoryEventStore() {
  const tables = new InMemoryTables();
  const clock = new FixedClock();
  const ids = new SequentialIds();
  const newEvents = new InMemoryNewEventsSignal();
  const events = new InMemoryEventStore(tables, clock, newEvents);
  const snapshots = new InMemorySnapshotStore(tables);
  return { tables, clock, ids, newEvents, events, snapshots };
}

export type InMemoryEventStoreKit = ReturnType<typeof createInMemoryEventStore>;
