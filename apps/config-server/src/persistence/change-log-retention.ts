import type { Logger } from '@k1s0/platform';
import type { PostgresChangeLogRepository } from './postgres-change-log-repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ChangeLogRetentionOptions {
  changeLog: PostgresChangeLogRepository;
  /** 0 keeps the log forever. */
  retentionDays: number;
  logger: Logger;
  /** How often to prune (default every 6 hours). */
  intervalMs?: number;
}

/**
 * Prunes change-log rows older than the retention period (design 000: audit log kept one year),
 * at start and then periodically. Every replica may run it: pruning is idempotent.
 */
export function startChangeLogRetention(options: ChangeLogRetentionOptions): { stop(): void } {
  const { changeLog, retentionDays, logger } = options;
  if (retentionDays <= 0) return { stop() {} };
  const prune = () =>
    changeLog
      .prune(new Date(Date.now() - retentionDays * DAY_MS))
      .then((removed) => {
        if (removed > 0) logger.info({ removed, retentionDays }, 'pruned change log');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'change log pruning failed'));
  void prune();
  const timer = setInterval(prune, options.intervalMs ?? 6 * 60 * 60 * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
