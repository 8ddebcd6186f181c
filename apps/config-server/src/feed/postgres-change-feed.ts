import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type ChangeFeed,
  type ChangeListener,
  type ConfigChange,
  configErrors,
  invalidateChangedConfig,
} from '@k1s0/config-domain';
import { type Database, Gauge, type Logger, type Registry } from '@k1s0/platform';
import type { LruConfigCache } from '../cache/lru-config-cache.js';
import type { PostgresChangeLogRepository } from '../persistence/postgres-change-log-repository.js';
import { CHANGE_CHANNEL } from './change-notification.js';

export interface PostgresChangeFeedOptions {
  database: Database;
  changeLog: PostgresChangeLogRepository;
  cache: LruConfigCache;
  logger: Logger;
  /** Safety poll for lost notifications and changes held behind the safe horizon. */
  pollIntervalMs: number;
  metrics?: { registry: Registry; prefix: string };
}

const PAGE_SIZE = 500;
/**
 * Subscribers handed a change per turn of the event loop. Each hand-over writes to a socket
 * buffer that is only flushed when the loop turns, so with 10,000 open watches the first one
 * would wait for the last; between slices the first ones' frames go out (issue 13).
 */
const FAN_OUT_SLICE = 250;
/** Retry delays while a notified revision is not yet below the safe horizon. */
const CATCH_UP_DELAYS_MS = [5, 10, 25, 50, 100, 200];

/**
 * The one change listener of this instance. On each wake-up (a payload-free NOTIFY that writers send
 * after committing, coalesced) it reads the change log after the last delivered revision, (a) drops
 * the cached entry and the service bulk results of every committed change at once (cross-instance
 * invalidation) and (b) hands every settled change, in revision order, to the subscribers
 * (WatchConfig streams). A slow poll covers lost notifications; a LISTEN reconnect also clears the
 * cache, since invalidations may have been missed meanwhile.
 */
export class PostgresChangeFeed implements ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private readonly subscribersGauge: Gauge | undefined;
  private connection: ReturnType<Database['dedicatedConnection']> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private catchUpTimer: NodeJS.Timeout | undefined;
  private catchUpAttempt = 0;
  private lastDelivered = 0n;
  private highestCommitted = 0n;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private listening = false;
  private stopped = false;

  constructor(private readonly options: PostgresChangeFeedOptions) {
    if (options.metrics) {
      this.subscribersGauge = new Gauge({
        name: `${options.metrics.prefix}_change_feed_subscribers`,
        help: 'Open WatchConfig subscriptions on this instance',
        registers: [options.metrics.registry],
      });
    }
  }

  /** Current subscriber count (what the gauge reports). */
  subscriberCount(): number {
    return this.listeners.size;
  }

  async start(): Promise<void> {
    const { database, changeLog, logger, pollIntervalMs } = this.options;
    this.lastDelivered = await changeLog.latestSettledRevision();
    this.highestCommitted = this.lastDelivered;
    this.connection = database.dedicatedConnection();
    await this.connection.listen(
      CHANGE_CHANNEL,
      () => this.pump(),
      () => {
        // postgres.js calls this on every (re)subscription; after the first, notifications may
        // have been lost while disconnected.
        if (this.listening) {
          logger.warn('change feed LISTEN reconnected; clearing the config cache and catching up');
          this.options.cache.clear();
          this.pump();
        }
        this.listening = true;
      },
    );
    this.pollTimer = setInterval(() => this.pump(), pollIntervalMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.catchUpTimer);
    await this.pumping;
    await this.connection?.end({ timeout: 2 });
    const failure = configErrors.watchInterrupted('サーバーが停止中です');
    for (const listener of [...this.listeners]) listener.onError(failure);
    this.listeners.clear();
    this.subscribersGauge?.set(0);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    this.subscribersGauge?.set(this.listeners.size);
    return () => {
      this.listeners.delete(listener);
      this.subscribersGauge?.set(this.listeners.size);
    };
  }

  /** Starts a delivery pass, or asks the running one to go round once more. */
  private pump(): void {
    if (this.stopped) return;
    if (this.pumping !== undefined) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.deliverPending().finally(() => {
      this.pumping = undefined;
      this.scheduleCatchUp();
    });
  }

  private async deliverPending(): Promise<void> {
    try {
      do {
        this.pumpAgain = false;
        for (;;) {
          const page = await this.options.changeLog.committedAfter(this.lastDelivered, PAGE_SIZE);
          // Every committed change is final for the cache, even one still behind the safe horizon.
          for (const { change } of page) {
            invalidateChangedConfig(this.options.cache, change.namespace, change.key);
            if (change.revision > this.highestCommitted) this.highestCommitted = change.revision;
          }
          let held = false;
          for (const { change, settled } of page) {
            if (!settled) {
              held = true; // the rest waits for the horizon (scheduleCatchUp)
              break;
            }
            await this.deliver(change);
          }
          if (held || page.length < PAGE_SIZE || this.stopped) break;
        }
      } while (this.pumpAgain && !this.stopped);
    } catch (error) {
      // Transient (database restarting…): the poll or the next notification retries.
      if (!this.stopped) this.options.logger.warn({ err: error }, 'change feed read failed');
    }
  }

  /** Hands `change` to every subscriber (those subscribed when it starts), in slices. */
  private async deliver(change: ConfigChange): Promise<void> {
    this.lastDelivered = change.revision;
    const listeners = [...this.listeners];
    for (let i = 0; i < listeners.length; i++) {
      if (i > 0 && i % FAN_OUT_SLICE === 0) await nextTurn();
      try {
        (listeners[i] as ChangeListener).onChange(change);
      } catch (error) {
        this.options.logger.error({ err: error }, 'change listener failed');
      }
    }
  }

  /**
   * A committed change can still be behind the safe horizon (an older transaction is open); look
   * again shortly instead of waiting for the poll, backing off while it stays hidden.
   */
  private scheduleCatchUp(): void {
    if (this.stopped || this.lastDelivered >= this.highestCommitted) {
      this.catchUpAttempt = 0;
      return;
    }
    if (this.catchUpTimer !== undefined) return;
    const delay = CATCH_UP_DELAYS_MS[Math.min(this.catchUpAttempt, CATCH_UP_DELAYS_MS.length - 1)] ?? 200;
    this.catchUpAttempt++;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = undefined;
      this.pump();
    }, delay);
    this.catchUpTimer.unref();
  }
}
