// Domain → REST JSON bodies (SPEC §5, design 000), typed by the response schemas.
import type { ConfigChange, ConfigEntry, PageInfo } from '@k1s0/config-domain';
import { perObject } from '@k1s0/platform';
import type { z } from 'zod';
import type {
  changeSchema,
  configUpdateSchema,
  entrySchema,
  paginationSchema,
  serviceEntrySchema,
} from './response-schemas.js';

/** RFC 3339 UTC with milliseconds, e.g. `2026-02-15T14:30:00.000Z`. */
const timestamp = (date: Date) => date.toISOString();

/** Entry JSON of SPEC §5 / design 000. */
export function entryJson(entry: ConfigEntry): z.input<typeof entrySchema> {
  return {
    id: entry.id,
    namespace: entry.namespace,
    key: entry.key,
    value: entry.value,
    version: entry.version,
    description: entry.description,
    created_by: entry.createdBy,
    updated_by: entry.updatedBy,
    created_at: timestamp(entry.createdAt),
    updated_at: timestamp(entry.updatedAt),
    // SPEC §8: optional fields, absent (rather than false / null) on plain entries, so entries
    // without them look exactly as before.
    ...(entry.secret ? { secret: true as const } : {}),
    ...(entry.metadata !== null ? { metadata: entry.metadata } : {}),
  };
}

/**
 * The entry's JSON text, serialized once per entry object: a cached entry is one object until it
 * changes (the cache replaces it), and GET answers it over and over (issue 13). A redacted secret
 * is a new object per call, so it is serialized each time. Sent as is (see sendJsonText).
 */
export const entryJsonText = perObject((entry: ConfigEntry): string => JSON.stringify(entryJson(entry)));

export function paginationJson(page: PageInfo): z.input<typeof paginationSchema> {
  return {
    total_count: page.totalCount,
    page: page.page,
    page_size: page.pageSize,
    has_next: page.hasNext,
  };
}

/** One change-log row; values absent on that side of the change are `null`. */
export function changeJson(change: ConfigChange): z.input<typeof changeSchema> {
  return {
    revision: Number(change.revision),
    id: change.id,
    config_entry_id: change.configEntryId,
    namespace: change.namespace,
    key: change.key,
    old_value: change.oldValue,
    new_value: change.newValue,
    old_version: change.oldVersion,
    new_version: change.newVersion,
    change_type: change.changeType,
    changed_by: change.changedBy,
    changed_at: timestamp(change.changedAt),
    ...(change.secret ? { secret: true as const } : {}),
  };
}

/** One WebSocket feed message (SPEC §8): the change in the REST history's types. */
export function updateJson(change: ConfigChange): z.input<typeof configUpdateSchema> {
  return {
    revision: Number(change.revision),
    namespace: change.namespace,
    key: change.key,
    change_type: change.changeType,
    old_value: change.oldValue,
    new_value: change.newValue,
    version: change.newVersion,
    changed_by: change.changedBy,
    changed_at: timestamp(change.changedAt),
  };
}

/** Service bulk item of design 000: `{namespace, key, value}`. */
export function serviceEntryJson(entry: ConfigEntry): z.input<typeof serviceEntrySchema> {
  return { namespace: entry.namespace, key: entry.key, value: entry.value };
}
