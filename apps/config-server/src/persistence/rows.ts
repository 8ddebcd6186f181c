import type { ChangeType, ConfigChange, ConfigEntry } from '@k1s0/config-domain';
import type { configChangeLogs, configEntries } from './schema.js';

type EntryRow = typeof configEntries.$inferSelect;
type ChangeRow = typeof configChangeLogs.$inferSelect;

export function entryFromRow(row: EntryRow): ConfigEntry {
  return {
    id: row.id,
    namespace: row.namespace,
    key: row.key,
    value: row.value,
    version: row.version,
    description: row.description,
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function changeFromRow(row: ChangeRow): ConfigChange {
  return {
    revision: row.revision,
    id: row.id,
    configEntryId: row.configEntryId,
    namespace: row.namespace,
    key: row.key,
    oldValue: row.oldValue,
    newValue: row.newValue,
    oldVersion: row.oldVersion,
    newVersion: row.newVersion,
    // The column's CHECK constraint admits exactly the three change types.
    changeType: row.changeType as ChangeType,
    changedBy: row.changedBy,
    changedAt: row.changedAt,
  };
}
