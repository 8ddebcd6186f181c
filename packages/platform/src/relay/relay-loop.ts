import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { type LeaderElection, startLeaderElection } from '../leader/leader-election.js';
import { anySignal } from '../runtime/any-signal.js';

/** Timing of a relay loop; every relay built on it takes these options. */
export interface RelayTimingOptions {
  /** Drain again at least this often without a wake-up (one may be missed, e.g. while LISTEN reconnects). Default 5 s. */
  pollIntervalMs?: number;
  /** Backoff after a failed attempt doubles from `initialMs` up to `maxMs`. Default 200 ms → 10 s. */
  retryBackoff?: { initialMs: number; maxMs: number };
  /** How often a follower tries to take over. Default 2 s. */
  leaderRetryIntervalMs?: number;
}

/** What one drain step found: `more` when another batch may be ready at once, `idle` when caught up. */
export type DrainOutcome = 'more' | 'idle';

/** Ends a wake-up subscription. */
export type StopListening = () => void | Promise<void>;

export interface RelayLoopOptions extends RelayTimingOptions {
  database: Database;
  /** Replicas with the same key elect one active relay, e.g. 'config_server.outbox_relay'. */
  leaderLockKey: string;
  logger: Logger;
  /**
   * Subscribes `wakeUp` to the source's "new work" signal (e.g. LISTEN) for one leadership term.
   * Called before the term's first drain, so work committed during any drain still wakes the loop.
   */
  listen(wakeUp: () => void): StopListening | Promise<StopListening>;
  /** Prepares a leadership term after `listen`, e.g. loads the durable position; throwing ends the term. */
  beginTerm?(): Promise<void>;
  /**
   * Relays one batch. Throwing is a failed attempt: the loop backs off and calls it again, so it must
   * resume from the same position. Long waits (the publish) should end when `signal` aborts.
   */
  drainOnce(signal: AbortSignal): Promise<DrainOutcome>;
  /** Called on each failed attempt, e.g. to count it; the loop logs it. */
  onAttemptFailed?(error: unknown): void;
}

export interface RelayLoop {
  /** Joins the leader election; the elected replica drains. Can be called again after stop(). */
  start(): void;
  /**
   * Flushes (if leading): drains until idle, retrying failed attempts with backoff, for at most
   * `timeoutMs` (default 5 s); then gives leadership up. What is not relayed by then stays for the next leader.
   */
  stop(timeoutMs?: number): Promise<void>;
  isLeader(): boolean;
}

/** Rejects as soon as `signal` aborts, without waiting for `work` (which is left to finish alone). */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    // Always observed, so a late failure of abandoned work is not an unhandled rejection.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The loop shared by the relays (outbox → bus, event log → bus): one replica leads (advisory lock);
 * it drains batch by batch until idle, then sleeps until a wake-up or the safety poll. A failed
 * attempt is retried after an exponential backoff, never skipped, so nothing is lost or reordered.
 */
export function createRelayLoop(options: RelayLoopOptions): RelayLoop {
  const { database, logger: log, drainOnce } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const backoff = options.retryBackoff ?? { initialMs: 200, maxMs: 10_000 };

  let election: LeaderElection | undefined;
  let leading: Promise<void> | undefined;
  let flushing = false;
  // A wake-up that arrives during a drain is remembered, so the wait after it returns at once.
  let woken = false;
  let interruptWait: (() => void) | undefined;
  const wakeUp = () => {
    woken = true;
    interruptWait?.();
  };

  /** Resolves on a wake-up (also one since the last drain began), after the poll interval, or on abort. */
  const waitForWork = async (signal: AbortSignal) => {
    if (woken) return;
    const interrupted = new AbortController();
    interruptWait = () => interrupted.abort();
    const either = anySignal([signal, interrupted.signal]);
    await sleep(pollIntervalMs, undefined, { signal: either.signal })
      .catch(() => undefined)
      .finally(() => {
        interruptWait = undefined;
        either.dispose();
      });
  };

  const drainUntilStopped = async (signal: AbortSignal) => {
    let delay = backoff.initialMs;
    while (!signal.aborted) {
      woken = false;
      let outcome: DrainOutcome;
      try {
        outcome = await drainOnce(signal);
        delay = backoff.initialMs;
      } catch (error) {
        if (signal.aborted) return;
        options.onAttemptFailed?.(error);
        log.warn({ err: error, retryInMs: delay }, 'relay attempt failed');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, backoff.maxMs);
        continue;
      }
      if (outcome === 'more') continue;
      if (flushing) return;
      await waitForWork(signal);
    }
  };

  const lead = async (signal: AbortSignal) => {
    const stopListening = await options.listen(wakeUp);
    try {
      await options.beginTerm?.();
      log.info('relay active');
      await drainUntilStopped(signal);
    } finally {
      try {
        await stopListening();
      } catch (error) {
        log.warn({ err: error }, 'relay could not stop listening');
      }
    }
  };

  return {
    start() {
      if (election) return;
      flushing = false;
      election = startLeaderElection({
        database,
        lockKey: options.leaderLockKey,
        retryIntervalMs: options.leaderRetryIntervalMs,
        logger: log,
        lead: (signal) => {
          leading = lead(signal);
          return leading;
        },
      });
    },
    async stop(timeoutMs = 5_000) {
      flushing = true;
      wakeUp();
      if (leading) {
        const deadline = new AbortController();
        await Promise.race([
          leading.catch(() => undefined),
          sleep(timeoutMs, undefined, { signal: deadline.signal }).catch(() => undefined),
        ]);
        deadline.abort();
      }
      await election?.stop();
      election = undefined;
      leading = undefined;
    },
    isLeader: () => election?.isLeader() ?? false,
  };
}
