import { Counter, Gauge, type Registry } from 'prom-client';

/** Relay metrics (SPEC §7: outbox backlog and relay errors), labelled by outbox `<schema>.<table>`. */
export interface OutboxMetrics {
  published: Counter<'outbox' | 'topic'>;
  errors: Counter<'outbox'>;
  /** Messages the broker rejected for good, moved to the outbox's dead-letter table. */
  deadLetters: Counter<'outbox' | 'reason'>;
  /** Reports `read()` as the `outbox_backlog` gauge at each scrape; returns the unregister function. */
  trackBacklog(outbox: string, read: () => Promise<number>): () => void;
}

const perRegistry = new WeakMap<Registry, OutboxMetrics>();

/** The outbox metrics of `registry`, created on first use so several relays can share them. */
export function outboxMetrics(registry: Registry): OutboxMetrics {
  const existing = perRegistry.get(registry);
  if (existing) return existing;
  const backlogSources = new Map<string, () => Promise<number>>();
  new Gauge({
    name: 'outbox_backlog',
    help: 'Outbox rows not yet published to the event bus',
    labelNames: ['outbox'] as const,
    registers: [registry],
    async collect() {
      for (const [outbox, read] of backlogSources) {
        // A scrape must not fail because the database is down; the gauge keeps its last value.
        const rows = await read().catch(() => undefined);
        if (rows !== undefined) this.set({ outbox }, rows);
      }
    },
  });
  const metrics: OutboxMetrics = {
    published: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox messages acknowledged by the event bus',
      labelNames: ['outbox', 'topic'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'outbox_relay_errors_total',
      help: 'Failed outbox relay attempts (publish or database errors)',
      labelNames: ['outbox'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'outbox_relay_dead_letters_total',
      help: 'Outbox messages the broker rejected permanently (e.g. MESSAGE_TOO_LARGE), moved to the dead-letter table',
      labelNames: ['outbox', 'reason'] as const,
      registers: [registry],
    }),
    trackBacklog(outbox, read) {
      backlogSources.set(outbox, read);
      return () => backlogSources.delete(outbox);
    },
  };
  perRegistry.set(registry, metrics);
  return metrics;
}
