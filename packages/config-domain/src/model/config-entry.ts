import type { ConfigValue, JsonValue } from './json-value.js';

/** Free-form labels of an entry (design 003 `metadata`): a JSON object. */
export type ConfigMetadata = { [key: string]: JsonValue };

/** One config value, addressed by `namespace` + `key` (unique together). */
export interface ConfigEntry {
  /** UUID; a key that is deleted and created again gets a new id. */
  readonly id: string;
  readonly namespace: string;
  readonly key: string;
  readonly value: ConfigValue;
  /** 1 on creation, +1 on every change; the optimistic-locking token. */
  readonly version: number;
  readonly description: string;
  readonly createdBy: string;
  readonly updatedBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /**
   * SPEC §8: the value is stored encrypted and only callers allowed to read secrets see it
   * (everyone else gets REDACTED). In memory — cache, use cases — the value is the plaintext.
   */
  readonly secret: boolean;
  /** SPEC §8 labels; `null` when none. Replaced by a write that sends it, not versioned separately. */
  readonly metadata: ConfigMetadata | null;
}
