import type { NewEventsSignal, Unsubscribe } from '@k1s0/eventstore-domain';
import type { Database, Logger } from '@k1s0/platform';

/** NOTIFY channel every committed append announces itself on (payload unused). */
export const APPENDED_CHANNEL = 'event_store_appended';

export interface PostgresNewEventsSignal extends NewEventsSignal {
  /** Starts the instance's single LISTEN (postgres.js keeps one listener connection per pool). */
  start(): Promise<void>;
  /** Stops listening; subscribers stay registered but are no longer woken by the database. */
  stop(): Promise<void>;
  /** Number of current subscribers (for leak checks). */
  readonly listenerCount: number;
}

/**
 * Fans one LISTEN `event_store_appended` out to every in-process reader (SubscribeAll streams, the
 * relay). After a reconnect of the listener connection it wakes everyone too, since notifications
 * sent while it was away are lost.
 */
export function createNewEventsSignal(database: Database, logger: Logger): PostgresNewEventsSignal {
  const listeners = new Set<() => void>();
  let unlisten: (() => Promise<void>) | undefined;
  const wakeAll = () => {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        logger.warn({ err: error }, 'new-events listener threw');
      }
    }
  };
  return {
    subscribe(listener): Unsubscribe {
      // A wrapper per subscription, so subscribing the same function twice yields two independent entries.
      const entry = () => listener();
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    async start() {
      if (unlisten) return;
      const meta = await database.sql.listen(APPENDED_CHANNEL, wakeAll, wakeAll);
      unlisten = () => meta.unlisten();
    },
    async stop() {
      const current = unlisten;
      unlisten = undefined;
      await current?.().catch((error: unknown) => logger.warn({ err: error }, 'unlisten failed'));
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}
