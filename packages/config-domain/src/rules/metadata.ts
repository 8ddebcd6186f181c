import { unstorableTextPath } from '@k1s0/platform/errors';
import type { ConfigMetadata } from '../model/config-entry.js';
import type { ConfigRules } from './config-rules.js';
import { unstorableTextMessage, Violations } from './validation.js';
import { checkValue, serializedValueBytes } from './value.js';

/**
 * SPEC §8 `metadata`: optional; when given, a JSON object of at most `maxMetadataBytes` serialized
 * (UTF-8), nested no deeper than a value may be.
 */
export function checkMetadata(
  violations: Violations,
  metadata: unknown,
  rules: ConfigRules,
  field = 'metadata',
): void {
  if (metadata === undefined) return;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    violations.add(field, 'metadata は JSON オブジェクトで指定してください');
    return;
  }
  const unstorable = unstorableTextPath(metadata);
  if (unstorable !== undefined) {
    violations.add(field, unstorableTextMessage(`metadata${unstorable}`));
    return;
  }
  // The value rules check JSON shape and depth; only the size limit differs.
  const shape = new Violations();
  checkValue(shape, metadata, { ...rules, maxValueBytes: Number.POSITIVE_INFINITY }, field);
  const [problem] = shape.details;
  if (problem !== undefined) {
    violations.add(field, problem.message.replace(/^value/, 'metadata'));
    return;
  }
  const bytes = serializedValueBytes(metadata as ConfigMetadata);
  if (bytes > rules.maxMetadataBytes) {
    violations.add(
      field,
      `metadata はシリアライズ後 ${rules.maxMetadataBytes} バイト以下にしてください（${bytes} バイト）`,
    );
  }
}

/** A checked metadata object as stored: an empty object means "no metadata" (`null`). */
export function normalizedMetadata(metadata: ConfigMetadata): ConfigMetadata | null {
  return Object.keys(metadata).length === 0 ? null : metadata;
}
