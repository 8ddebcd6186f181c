import { CHANGE_TYPES } from '@k1s0/config-domain';
import { z } from 'zod';

// Response bodies of the REST API as documented in /openapi.json; the presenters return exactly
// these shapes (their return types are z.input of these schemas).

const timestamp = z.iso.datetime().meta({ description: 'RFC 3339 UTC' });
const jsonValue = z.unknown().meta({ description: 'Any JSON value except null' });

export const entrySchema = z
  .object({
    id: z.string(),
    namespace: z.string(),
    key: z.string(),
    value: jsonValue,
    version: z.int(),
    description: z.string(),
    created_by: z.string(),
    updated_by: z.string(),
    created_at: timestamp,
    updated_at: timestamp,
    secret: z.literal(true).optional().meta({
      description:
        'SPEC §8: present (true) only for secret entries; value is "[redacted]" below sys_operator',
    }),
    metadata: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'SPEC §8 free-form labels; absent when none' }),
  })
  .meta({ id: 'ConfigEntry', description: 'Entry JSON (SPEC §5, §8)' });

export const paginationSchema = z
  .object({ total_count: z.int(), page: z.int(), page_size: z.int(), has_next: z.boolean() })
  .meta({ id: 'Pagination' });

export const changeSchema = z
  .object({
    revision: z.int(),
    id: z.string(),
    config_entry_id: z.string(),
    namespace: z.string(),
    key: z.string(),
    old_value: jsonValue.meta({ description: 'null when created' }),
    new_value: jsonValue.meta({ description: 'null when deleted' }),
    old_version: z.int().meta({ description: '0 when created' }),
    new_version: z.int().meta({ description: '0 when deleted' }),
    change_type: z.enum(CHANGE_TYPES),
    changed_by: z.string(),
    changed_at: timestamp,
    secret: z
      .literal(true)
      .optional()
      .meta({ description: 'Values of a secret entry: "[redacted]" below sys_operator' }),
  })
  .meta({ id: 'ConfigChange', description: 'One change-log row' });

/**
 * One message of the WebSocket feed (SPEC §8). Types as in the REST entry and history JSON:
 * `revision` a number (the history's `revision`), values JSON values (`null` on the side a change
 * has none), `version` the entry's version after the change (0 once deleted, the version a PUT
 * must send to create it again).
 */
export const configUpdateSchema = z
  .object({
    revision: z.int().meta({ description: 'Global, increasing; resume with from_revision=<last seen>' }),
    namespace: z.string(),
    key: z.string(),
    change_type: z.enum(CHANGE_TYPES),
    old_value: jsonValue.meta({ description: 'null when created' }),
    new_value: jsonValue.meta({ description: 'null when deleted' }),
    version: z.int().meta({ description: 'Version after the change; 0 when deleted' }),
    changed_by: z.string(),
    changed_at: timestamp,
  })
  .meta({ id: 'ConfigUpdate', description: 'One change, as one WebSocket text message' });

export const serviceEntrySchema = z.object({ namespace: z.string(), key: z.string(), value: jsonValue });

export const listResponse = z.object({ entries: z.array(entrySchema), pagination: paginationSchema });
export const historyResponse = z.object({ history: z.array(changeSchema), pagination: paginationSchema });
export const serviceConfigResponse = z.object({
  service_name: z.string(),
  entries: z.array(serviceEntrySchema),
});
