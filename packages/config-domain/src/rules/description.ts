import { isStorableText } from '@k1s0/platform/errors';
import type { ConfigRules } from './config-rules.js';
import { unstorableTextMessage, type Violations } from './validation.js';

/** Optional; when given, a string of at most `maxDescriptionLength` code points. */
export function checkDescription(
  violations: Violations,
  description: unknown,
  rules: ConfigRules,
  field = 'description',
): void {
  if (description === undefined) return;
  if (typeof description !== 'string' || [...description].length > rules.maxDescriptionLength) {
    violations.add(field, `description は ${rules.maxDescriptionLength} 文字以下の文字列にしてください`);
  } else if (!isStorableText(description)) {
    violations.add(field, unstorableTextMessage('description'));
  }
}
