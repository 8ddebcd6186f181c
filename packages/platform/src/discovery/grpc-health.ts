import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { grpcHealthV1 } from '@k1s0/proto';
import { type ReadinessCheck, readinessReport } from '../http/readiness.js';

const { Health, HealthCheckResponse_ServingStatus: ServingStatus } = grpcHealthV1;
type ServingStatus = grpcHealthV1.HealthCheckResponse_ServingStatus;

export interface HealthOptions {
  /** The same checks `/readyz` runs. */
  readiness: Record<string, ReadinessCheck>;
  /** Aborted when shutdown starts: everything turns NOT_SERVING and Watch streams end. */
  shutdownSignal: AbortSignal;
  /** Full names of the services this port serves (each answers besides the overall ""). */
  services: () => ReadonlySet<string>;
  /** How often an open Watch re-evaluates readiness. */
  watchIntervalMs?: number;
}

const DEFAULT_WATCH_INTERVAL_MS = 1000;

/**
 * `grpc.health.v1.Health` (Check, List, Watch). Every service of the process shares one status:
 * SERVING exactly when `/readyz` would answer 200, NOT_SERVING otherwise (a dependency down, or
 * shutdown under way), so Kubernetes gRPC probes and `/readyz` never disagree.
 */
export function registerHealth(router: ConnectRouter, options: HealthOptions): void {
  const interval = options.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const known = (service: string) => service === '' || options.services().has(service);
  const current = async (): Promise<ServingStatus> => {
    if (options.shutdownSignal.aborted) return ServingStatus.NOT_SERVING;
    const { ready } = await readinessReport(options.readiness, options.shutdownSignal);
    return ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };

  router.service(Health, {
    async check(request) {
      if (!known(request.service)) {
        throw new ConnectError(`unknown service: ${request.service}`, Code.NotFound);
      }
      return { status: await current() };
    },
    async list() {
      const status = await current();
      const statuses = Object.fromEntries(['', ...options.services()].map((name) => [name, { status }]));
      return { statuses };
    },
    async *watch(request, ctx) {
      // Per the protocol an unknown service is reported, not failed; the set never grows at run time.
      if (!known(request.service)) {
        yield { status: ServingStatus.SERVICE_UNKNOWN };
        await aborted(ctx.signal);
        return;
      }
      // Shutdown aborts ctx.signal too: one more round reports NOT_SERVING before the stream ends.
      let last: ServingStatus | undefined;
      for (;;) {
        const status = await current();
        if (status !== last) {
          yield { status };
          last = status;
        }
        if (ctx.signal.aborted || options.shutdownSignal.aborted) return;
        await delay(interval, ctx.signal);
      }
    },
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Waits `ms`, or less when `signal` aborts first. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
