import type { ConfigChange } from '../model/config-change.js';

export interface ChangeListener {
  /** Called for every change committed (on any instance) after `subscribe` returned, in revision order. */
  onChange(change: ConfigChange): void;
  /**
   * The feed broke (e.g. its LISTEN connection dropped) and may have missed changes; no more
   * calls follow. Watch streams end with UNAVAILABLE so clients resume with `from_revision`.
   */
  onError(error: unknown): void;
}

/** Live stream of committed changes for WatchConfig. */
export interface ChangeFeed {
  /** Returns the function that removes the listener; calling it twice is harmless. */
  subscribe(listener: ChangeListener): () => void;
}
