import { unstorableTextPath } from '@k1s0/platform/errors';
import type { ConfigMetadata } from '../model/config-entry.js';
import type { ConfigRules } from './config-rules.js';
import { type Problem, unstorableTextProblem } from './validation.js';
import { serializedValueBytes, valueProblem } from './value.js';

/**
 * SPEC §8 `metadata`: optional; when given, a JSON object of at most `maxMetadataBytes` serialized
 * (UTF-8), nested no deeper than a value may be.
 */
export function metadataProblem(metadata: unknown, rules: ConfigRules, field = 'metadata'): Problem {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return { field, message: 'metadata は JSON オブジェクトで指定してください' };
  }
  const unstorable = unstorableTextPath(metadata);
  if (unstorable !== undefined) return unstorableTextProblem(field, `metadata${unstorable}`);
  // The value rules check JSON shape and depth; only the size limit differs.
  const shape = valueProblem(metadata, { ...rules, maxValueBytes: Number.POSITIVE_INFINITY }, field);
  if (shape !== undefined) return { field, message: shape.message.replace(/^value/, 'metadata') };
  const bytes = serializedValueBytes(metadata as ConfigMetadata);
  if (bytes > rules.maxMetadataBytes) {
    return {
      field,
      message: `metadata はシリアライズ後 ${rules.maxMetadataBytes} バイト以下にしてください（${bytes} バイト）`,
    };
  }
  return undefined;
}

/** A checked metadata object as stored: an empty object means "no metadata" (`null`). */
export function normalizedMetadata(metadata: ConfigMetadata): ConfigMetadata | null {
  return Object.keys(metadata).length === 0 ? null : metadata;
}
