import type { ChangeType, ConfigChange, ConfigEntry } from '@k1s0/config-domain';
import type { configChangeLogs, configEntries } from './schema.js';
import type { SecretValues } from './secret-values.js';

type EntryRow = typeof configEntries.$inferSelect;
type ChangeRow = typeof configChangeLogs.$inferSelect;

/** The entry a row holds, with a secret value opened (plaintext in memory only). */
export function entryFromRow(row: EntryRow, values: SecretValues): ConfigEntry {
  return {
    id: row.id,
    namespace: row.namespace,
    key: row.key,
    value: values.fromStored(row.value, row.secret, row.namespace, row.key),
    version: row.version,
    description: row.description,
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    secret: row.secret,
    metadata: row.metadata ?? null,
  };
}

export function changeFromRow(row: ChangeRow, values: SecretValues): ConfigChange {
  return {
    revision: row.revision,
    id: row.id,
    configEntryId: row.configEntryId,
    namespace: row.namespace,
    key: row.key,
    oldValue: values.fromStored(row.oldValue, row.secret, row.namespace, row.key),
    newValue: values.fromStored(row.newValue, row.secret, row.namespace, row.key),
    oldVersion: row.oldVersion,
    newVersion: row.newVersion,
    // The column's CHECK constraint admits exactly the three change types.
    changeType: row.changeType as ChangeType,
    changedBy: row.changedBy,
    changedAt: row.changedAt,
    secret: row.secret,
  };
}
