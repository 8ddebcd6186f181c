import {
  AppendEvents,
  type AppendEventsInput,
  type AppendEventsResult,
  CreateSnapshot,
  type CreateSnapshotInput,
  DeleteStream,
  type DeleteStreamInput,
  type DeleteStreamResult,
  type EventStore,
  type EventStoreLimits,
  GetLatestSnapshot,
  type GetLatestSnapshotInput,
  type GlobalLogBatch,
  type NewEventsSignal,
  ReadAll,
  type ReadAllInput,
  ReadEventBySequence,
  type ReadEventBySequenceInput,
  ReadEvents,
  type ReadEventsInput,
  type ReadEventsResult,
  randomUuids,
  type Snapshot,
  type SnapshotStore,
  type StoredEvent,
  SubscribeAll,
  type SubscribeAllInput,
  systemClock,
} from '@k1s0/eventstore-domain';
import { traced } from '@k1s0/platform';

/** The event store's operations, shared by REST and gRPC; each call runs in its own span. */
export interface EventStoreUseCases {
  appendEvents(input: AppendEventsInput): Promise<AppendEventsResult>;
  readEvents(input: ReadEventsInput): Promise<ReadEventsResult>;
  readEventBySequence(input: ReadEventBySequenceInput): Promise<StoredEvent>;
  createSnapshot(input: CreateSnapshotInput): Promise<Snapshot>;
  getLatestSnapshot(input: GetLatestSnapshotInput): Promise<Snapshot>;
  deleteStream(input: DeleteStreamInput): Promise<DeleteStreamResult>;
  readAll(input: ReadAllInput): Promise<GlobalLogBatch>;
  /** Validates at once (throws); the stream itself is long-lived and not wrapped in a span. */
  subscribeAll(input: SubscribeAllInput): AsyncIterable<StoredEvent>;
  /** subscribeAll in the batches it is read in (SubscribeAll with `batch`). */
  subscribeAllBatches(input: SubscribeAllInput): AsyncIterable<readonly StoredEvent[]>;
}

export interface UseCaseDeps {
  events: EventStore;
  snapshots: SnapshotStore;
  newEvents: NewEventsSignal;
  limits: EventStoreLimits;
  subscribePollIntervalMs: number;
}

export function createUseCases(deps: UseCaseDeps): EventStoreUseCases {
  const common = { events: deps.events, clock: systemClock, ids: randomUuids, limits: deps.limits };
  const appendEvents = new AppendEvents(common);
  const readEvents = new ReadEvents(common);
  const readEventBySequence = new ReadEventBySequence(common);
  const createSnapshot = new CreateSnapshot({ ...common, snapshots: deps.snapshots });
  const getLatestSnapshot = new GetLatestSnapshot({ ...common, snapshots: deps.snapshots });
  const deleteStream = new DeleteStream(common);
  const readAll = new ReadAll(common);
  const subscribeAll = new SubscribeAll({
    events: deps.events,
    newEvents: deps.newEvents,
    pollIntervalMs: deps.subscribePollIntervalMs,
    // Internal reads, not a client's page: the largest allowed batch means fewer queries per event.
    batchSize: deps.limits.maxReadAllLimit,
  });
  return {
    appendEvents: (input) => traced('event_store.AppendEvents', () => appendEvents.execute(input)),
    readEvents: (input) => traced('event_store.ReadEvents', () => readEvents.execute(input)),
    readEventBySequence: (input) =>
      traced('event_store.ReadEventBySequence', () => readEventBySequence.execute(input)),
    createSnapshot: (input) => traced('event_store.CreateSnapshot', () => createSnapshot.execute(input)),
    getLatestSnapshot: (input) =>
      traced('event_store.GetLatestSnapshot', () => getLatestSnapshot.execute(input)),
    deleteStream: (input) => traced('event_store.DeleteStream', () => deleteStream.execute(input)),
    readAll: (input) => traced('event_store.ReadAll', () => readAll.execute(input)),
    subscribeAll: (input) => subscribeAll.execute(input),
    subscribeAllBatches: (input) => subscribeAll.executeBatches(input),
  };
}
