/** A signal that aborts when any of its sources does, and lets go of them on `dispose()`. */
export interface AnySignal {
  readonly signal: AbortSignal;
  /** Detaches from the sources; call it when whatever used `signal` has ended. */
  dispose(): void;
}

/**
 * `AbortSignal.any` without its leak. On Node 22 a signal combined with a source that lives as
 * long as the process (the shutdown signal, a relay's stop signal) stays reachable from that source
 * for good once anything listens to it: measured 100,000 combined signals → +225 MiB of heap that
 * no GC returns, and a config-server's RSS grew ~60–125 MiB with every 2,000 WatchConfig streams
 * opened and closed (issue 10, finding 7). Plain listeners, removed on dispose, hold nothing.
 */
export function anySignal(sources: readonly AbortSignal[]): AnySignal {
  const controller = new AbortController();
  const aborted = sources.find((source) => source.aborted);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose() {} };
  }
  const listeners = sources.map((source) => {
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    return () => source.removeEventListener('abort', onAbort);
  });
  return {
    signal: controller.signal,
    dispose() {
      for (const remove of listeners) remove();
    },
  };
}
