import type postgres from 'postgres';

export interface LeaderLease {
  /** Aborted when leadership is lost (connection gone) or released. */
  readonly signal: AbortSignal;
  /** Gives leadership up: unlocks and closes the lease's connection. Idempotent. */
  release(): Promise<void>;
}

export interface LeaseOptions {
  /** How often the lease checks that its session (and so its lock) still exists. Default 2 s. */
  heartbeatIntervalMs?: number;
  /** Called once when leadership is lost without release() having been called. */
  onLost?: (reason: unknown) => void;
}

/**
 * Tries once to become the single leader for `lockKey` across all replicas sharing the
 * database: a session advisory lock (pg_try_advisory_lock on hashtextextended(lockKey)) held
 * on `connection`, a dedicated single-connection client the lease takes ownership of and ends
 * on release/loss. Resolves undefined (connection ended) when another session leads.
 *
 * PostgreSQL drops the lock with the session, so the lease watches the session: if the
 * connection breaks (postgres.js would silently reconnect to a new, lock-less session) the
 * heartbeat sees a different backend pid, or an error, and the lease is lost.
 */
export async function tryAcquireLeadership(
  connection: postgres.Sql,
  lockKey: string,
  options: LeaseOptions = {},
): Promise<LeaderLease | undefined> {
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2_000;
  let acquired: { locked: boolean; pid: number } | undefined;
  try {
    [acquired] = await connection<{ locked: boolean; pid: number }[]>`
      select pg_try_advisory_lock(hashtextextended(${lockKey}, 0)) as locked, pg_backend_pid() as pid`;
  } catch (error) {
    await connection.end({ timeout: 0 });
    throw error;
  }
  if (!acquired?.locked) {
    await connection.end({ timeout: 1 });
    return undefined;
  }
  const leaderPid = acquired.pid;
  const controller = new AbortController();
  let released = false;

  const lose = (reason: unknown) => {
    if (controller.signal.aborted) return;
    clearInterval(heartbeat);
    controller.abort(reason);
    // Destroy the session for sure so the lock cannot linger with a half-open socket.
    void connection.end({ timeout: 0 });
    if (!released) options.onLost?.(reason);
  };

  const heartbeat = setInterval(() => {
    const timeout = AbortSignal.timeout(heartbeatIntervalMs);
    const check = connection<{ pid: number }[]>`select pg_backend_pid() as pid`.then(([row]) => {
      if (row?.pid !== leaderPid) throw new Error('leader session was replaced; advisory lock lost');
    });
    const expired = new Promise<never>((_, reject) =>
      timeout.addEventListener('abort', () => reject(new Error('leader heartbeat timed out'))),
    );
    Promise.race([check, expired]).catch(lose);
  }, heartbeatIntervalMs);
  heartbeat.unref();

  return {
    signal: controller.signal,
    async release() {
      if (released) return;
      released = true;
      if (controller.signal.aborted) return;
      clearInterval(heartbeat);
      controller.abort(new Error('leadership released'));
      await connection`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`.catch(() => undefined);
      await connection.end({ timeout: 1 });
    },
  };
}
