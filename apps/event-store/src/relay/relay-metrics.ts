import { Counter, Gauge, type Registry } from '@k1s0/platform';

export interface RelayMetrics {
  published: Counter<'topic'>;
  errors: Counter;
  /** Events set aside in event_store.relay_dead_letters (the broker rejects them for good). */
  deadLetters: Counter<'topic' | 'reason'>;
  /** Calls `read` at scrape time for the lag gauge; returns the unregister function. */
  trackLag(read: () => Promise<number>): () => void;
}

/** Relay metrics (SPEC §7): events published, failed attempts, events committed but not yet published. */
export function createRelayMetrics(registry: Registry): RelayMetrics {
  let lagSource: (() => Promise<number>) | undefined;
  new Gauge({
    name: 'event_store_relay_lag_events',
    help: 'Committed events not yet published to Kafka by the relay',
    registers: [registry],
    async collect() {
      // A scrape must not fail because the database is down; the gauge keeps its last value.
      const lag = await lagSource?.().catch(() => undefined);
      if (lag !== undefined) this.set(lag);
    },
  });
  return {
    published: new Counter({
      name: 'event_store_relay_published_total',
      help: 'Events acknowledged by Kafka',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'event_store_relay_errors_total',
      help: 'Failed relay attempts (publish or database errors)',
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'event_store_relay_dead_letters_total',
      help: 'Events the broker rejected permanently (e.g. MESSAGE_TOO_LARGE), recorded in event_store.relay_dead_letters and skipped',
      labelNames: ['topic', 'reason'] as const,
      registers: [registry],
    }),
    trackLag(read) {
      lagSource = read;
      return () => {
        lagSource = undefined;
      };
    },
  };
}
