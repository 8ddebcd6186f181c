import { isStorableText } from '@k1s0/platform/errors';
import type { ConfigRules } from './config-rules.js';
import { type Problem, unstorableTextProblem } from './validation.js';

/** Optional; when given, a string of at most `maxDescriptionLength` code points. */
export function descriptionProblem(description: unknown, rules: ConfigRules, field = 'description'): Problem {
  if (description === undefined) return undefined;
  if (typeof description !== 'string' || [...description].length > rules.maxDescriptionLength) {
    return { field, message: `description は ${rules.maxDescriptionLength} 文字以下の文字列にしてください` };
  }
  if (!isStorableText(description)) {
    return unstorableTextProblem(field, 'description');
  }
  return undefined;
}
