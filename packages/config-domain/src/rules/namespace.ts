import type { ConfigRules } from './config-rules.js';
import type { Violations } from './validation.js';

/** `config_entries.namespace` is VARCHAR(255). */
export const NAMESPACE_MAX_LENGTH = 255;
const SEGMENT = /^[a-z0-9_-]+$/;

/**
 * `{tier}.{service}[.{section}…]`: 2..maxDepth segments of [a-z0-9_-]+, the first an allowed tier.
 * `field` lets list inputs (e.g. `namespaces[2]`) name the offending element.
 */
export function checkNamespace(
  violations: Violations,
  namespace: unknown,
  rules: ConfigRules,
  field = 'namespace',
): void {
  if (typeof namespace !== 'string' || namespace === '') {
    violations.add(field, 'namespace フィールドは必須です');
    return;
  }
  if (namespace.length > NAMESPACE_MAX_LENGTH) {
    violations.add(field, `namespace は ${NAMESPACE_MAX_LENGTH} 文字以下にしてください`);
    return;
  }
  const segments = namespace.split('.');
  if (segments.length < 2 || segments.length > rules.maxDepth || !segments.every((s) => SEGMENT.test(s))) {
    violations.add(
      field,
      `namespace は 2〜${rules.maxDepth} 階層のドット区切りで、各階層は [a-z0-9_-]+ にしてください`,
    );
  } else if (!rules.allowedTiers.includes(segments[0] as string)) {
    violations.add(field, `namespace の第1階層は ${rules.allowedTiers.join(', ')} のいずれかにしてください`);
  }
}

/** The service segment of a (valid) namespace: `system.auth.database` → `auth`. */
export function serviceSegmentOf(namespace: string): string | undefined {
  return namespace.split('.')[1];
}
