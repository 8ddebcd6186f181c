import type { ConfigValue } from './json-value.js';

export const CHANGE_TYPES = ['CREATED', 'UPDATED', 'DELETED'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/**
 * One row of the change log (`config_change_logs`). Written in the same transaction as the entry
 * change it describes, and the source of history, rollback, outbox events and WatchConfig.
 */
export interface ConfigChange {
  /**
   * Global, strictly increasing sequence across all keys, assigned by the store at commit.
   * Numbers may have gaps; they become visible in increasing order (see ConfigWriter).
   */
  readonly revision: bigint;
  readonly id: string;
  readonly configEntryId: string;
  readonly namespace: string;
  readonly key: string;
  /** `null` for CREATED. */
  readonly oldValue: ConfigValue | null;
  /** `null` for DELETED. */
  readonly newValue: ConfigValue | null;
  /** 0 for CREATED. */
  readonly oldVersion: number;
  /** 0 for DELETED: an absent key has version 0, the version a PUT must send to create it again. */
  readonly newVersion: number;
  readonly changeType: ChangeType;
  readonly changedBy: string;
  readonly changedAt: Date;
  /**
   * Either side of the change belongs to a secret entry: both values are stored encrypted and
   * are REDACTED for callers who may not read secrets (history, watch, the Kafka event).
   */
  readonly secret: boolean;
}

/** A change the domain has decided on; the store assigns `revision` when it commits it. */
export type PendingConfigChange = Omit<ConfigChange, 'revision'>;
