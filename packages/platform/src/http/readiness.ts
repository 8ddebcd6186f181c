/** A readiness check throws (or rejects) when its dependency is not usable. */
export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  /** Per check: 'ok' or `error: <reason>`. */
  checks: Record<string, string>;
}

const READINESS_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
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
  const checks: Record<string, string> = {};
  await Promise.all(
    Object.entries(readiness).map(async ([name, check]) => {
      checks[name] = await runCheck(check);
    }),
  );
  if (shutdownSignal.aborted) checks.shutdown = 'error: shutting down';
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
}
