// Domain ⇄ protobuf messages of the gRPC API (design 001): the gRPC twin of rest/presenters.ts.
import { create } from '@bufbuild/protobuf';
import type { ConfigChange, ConfigEntry, ConfigValue, PageInfo } from '@k1s0/config-domain';
import { configErrors } from '@k1s0/config-domain';
import { commonV1, configV1 } from '@k1s0/proto';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function timestampMessage(date: Date): commonV1.Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return create(commonV1.TimestampSchema, {
    seconds: BigInt(seconds),
    nanos: (ms - seconds * 1000) * 1_000_000,
  });
}

/** JSON text bytes of a value; empty bytes for "no value". */
export function jsonBytes(value: ConfigValue | null): Uint8Array {
  return value === null ? new Uint8Array() : utf8Encoder.encode(JSON.stringify(value));
}

/**
 * `bytes value` of a request: UTF-8 JSON text. Empty = absent (the use case then reports the
 * field as required); anything that is not JSON is a validation error naming `value`.
 */
export function parseJsonBytes(bytes: Uint8Array, field = 'value'): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(utf8Decoder.decode(bytes));
  } catch {
    throw configErrors.validationFailed([{ field, message: `${field} は UTF-8 の JSON で指定してください` }]);
  }
}

export function entryMessage(entry: ConfigEntry): configV1.ConfigEntry {
  return create(configV1.ConfigEntrySchema, {
    id: entry.id,
    namespace: entry.namespace,
    key: entry.key,
    value: jsonBytes(entry.value),
    version: entry.version,
    description: entry.description,
    createdBy: entry.createdBy,
    updatedBy: entry.updatedBy,
    createdAt: timestampMessage(entry.createdAt),
    updatedAt: timestampMessage(entry.updatedAt),
    secret: entry.secret,
    metadataJson: entry.metadata === null ? '' : JSON.stringify(entry.metadata),
  });
}

export function paginationMessage(page: PageInfo): commonV1.PaginationResult {
  return create(commonV1.PaginationResultSchema, {
    totalCount: page.totalCount,
    page: page.page,
    pageSize: page.pageSize,
    hasNext: page.hasNext,
  });
}

export function changeEventMessage(change: ConfigChange): configV1.ConfigChangeEvent {
  return create(configV1.ConfigChangeEventSchema, {
    namespace: change.namespace,
    key: change.key,
    oldValue: jsonBytes(change.oldValue),
    newValue: jsonBytes(change.newValue),
    oldVersion: change.oldVersion,
    newVersion: change.newVersion,
    changedBy: change.changedBy,
    changeType: change.changeType,
    changedAt: timestampMessage(change.changedAt),
    revision: change.revision,
    secret: change.secret,
  });
}

/** `"namespace.key" → JSON text` of GetServiceConfigResponse.configs (SPEC §5). */
export function flattenedConfigs(entries: readonly ConfigEntry[]): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const entry of entries) configs[`${entry.namespace}.${entry.key}`] = JSON.stringify(entry.value);
  return configs;
}

/**
 * `metadata_json` of UpdateConfigRequest: '' = keep the current metadata; otherwise JSON text the
 * use case checks like REST's `metadata` (a non-object is reported on `metadata_json`).
 */
export function parseMetadataJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw configErrors.validationFailed([
      { field: 'metadata_json', message: 'metadata_json は JSON オブジェクトのテキストで指定してください' },
    ]);
  }
}

/** proto3 has no "absent" for scalars: 0 / '' mean "not given". */
export const unlessZero = (n: number) => (n === 0 ? undefined : n);
export const unlessEmpty = (s: string) => (s === '' ? undefined : s);
