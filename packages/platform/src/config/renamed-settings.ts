import type { Logger } from '../observability/logger.js';

/**
 * Settings renamed when durations became durations (`connect_timeout: 5s`, not
 * `connect_timeout_seconds: 5`). An old key still applies and wins when set, so existing config
 * files keep their meaning; each one set is reported once at start-up.
 */
export class RenamedSettings {
  /** `old → new` for each old key that is set. */
  readonly used: string[] = [];

  /** The old key's value (converted to the new key's unit by the caller) when set, else the new one. */
  pick<T>(oldKey: string, newKey: string, oldValue: T | undefined, value: T): T {
    if (oldValue === undefined) return value;
    this.used.push(`${oldKey} → ${newKey}`);
    return oldValue;
  }

  /** One warning per old key in use, naming the key to write instead. */
  warn(logger: Pick<Logger, 'warn'>): void {
    for (const setting of this.used) {
      logger.warn({ setting }, 'deprecated setting: the old key still applies; write the new key instead');
    }
  }
}
