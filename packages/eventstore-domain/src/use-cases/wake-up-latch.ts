/**
 * Remembers a wake-up that arrives while nobody is waiting, so none is lost in the window between a
 * read of the log and the wait that follows it. Single waiter at a time.
 */
export class WakeUpLatch {
  private pending = false;
  private release: (() => void) | undefined;

  notify(): void {
    this.pending = true;
    this.release?.();
  }

  /** Forgets wake-ups seen so far; call right before a read, which will observe whatever they announced. */
  reset(): void {
    this.pending = false;
  }

  /** Resolves at once when notified since the last reset, else on the next notify, after `timeoutMs`, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.release = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.release = done;
    });
  }
}
