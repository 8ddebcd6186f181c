export type Unsubscribe = () => void;

/**
 * Wake-up signal for readers of the global log: SubscribeAll re-reads `EventStore.readAll` when it
 * fires, instead of being handed events, so delivery stays gap-free by construction. It carries no
 * data and may fire spuriously or be lost (SubscribeAll also polls); it should fire after every commit
 * of an append on any instance (e.g. Postgres LISTEN/NOTIFY plus a local emitter).
 */
export interface NewEventsSignal {
  /** Calls `listener` on each wake-up until the returned function is called (calling it twice is harmless). */
  subscribe(listener: () => void): Unsubscribe;
}
