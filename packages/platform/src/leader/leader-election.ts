import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { anySignal } from '../runtime/any-signal.js';
import { tryAcquireLeadership } from './leader-lease.js';

export interface LeaderElectionOptions {
  database: Database;
  /** Names the role, e.g. 'config_server.outbox_relay'; replicas using the same key compete. */
  lockKey: string;
  /**
   * The leader's work. Runs while this replica leads and must return soon after `signal`
   * aborts (leadership lost or election stopped). Returning early gives leadership up.
   */
  lead: (signal: AbortSignal) => Promise<void>;
  /** Pause between attempts while another replica leads. Default 2 s. */
  retryIntervalMs?: number;
  heartbeatIntervalMs?: number;
  logger?: Logger;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Ends `lead` (aborting its signal), releases leadership and stops competing. */
  stop(): Promise<void>;
}

/** Keeps competing for leadership of `lockKey` and runs `lead` whenever this replica wins. */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const { database, lockKey, lead, logger } = options;
  const retryIntervalMs = options.retryIntervalMs ?? 2_000;
  const stopping = new AbortController();
  let leading = false;

  const runOnce = async () => {
    const lease = await tryAcquireLeadership(database.dedicatedConnection(), lockKey, {
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      onLost: (reason) => logger?.warn({ err: reason, lockKey }, 'leadership lost'),
    });
    if (!lease) return;
    leading = true;
    logger?.info({ lockKey }, 'leadership acquired');
    const either = anySignal([lease.signal, stopping.signal]);
    try {
      await lead(either.signal);
    } finally {
      either.dispose();
      leading = false;
      await lease.release();
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await runOnce();
      } catch (error) {
        logger?.warn({ err: error, lockKey }, 'leader election attempt failed');
      }
      await sleep(retryIntervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    isLeader: () => leading,
    async stop() {
      stopping.abort(new Error('leader election stopped'));
      await loop;
    },
  };
}
