import type { ConfigValue } from './json-value.js';

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
}
