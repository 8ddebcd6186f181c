/** A readiness check throws (or rejects) when its dependency is not usable. */
export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  /**
   * Per check: 'ok' or 'error'. Public (/readyz): it names the failing check but never carries the
   * dependency's error text, which could reveal hosts, users or SQL (issue 10 finding 11).
   */
  checks: Record<string, 'ok' | 'error'>;
  /** Per failing check, the reason: for the log only. */
  failures: Record<string, string>;
}

const READINESS_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every check (each bounded by a timeout); a service shutting down is never ready. One
 * answer for `/readyz` and the gRPC health service, so both report the same thing.
 */
export async function readinessReport(
  readiness: Record<string, ReadinessCheck>,
  shutdownSignal: AbortSignal,
): Promise<ReadinessReport> {
  const checks: Record<string, 'ok' | 'error'> = {};
  const failures: Record<string, string> = {};
  await Promise.all(
    Object.entries(readiness).map(async ([name, check]) => {
      const failure = await runCheck(check);
      checks[name] = failure === undefined ? 'ok' : 'error';
      if (failure !== undefined) failures[name] = failure;
    }),
  );
  if (shutdownSignal.aborted) {
    checks.shutdown = 'error';
    failures.shutdown = 'shutting down';
  }
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks, failures };
}
