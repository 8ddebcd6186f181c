import type { Violations } from './validation.js';

/** `config_entries.key` is VARCHAR(255). */
export const KEY_MAX_LENGTH = 255;
const KEY = /^[A-Za-z0-9_.-]+$/;

export function checkKey(violations: Violations, key: unknown, field = 'key'): void {
  if (typeof key !== 'string' || key === '') {
    violations.add(field, 'key フィールドは必須です');
  } else if (key.length > KEY_MAX_LENGTH || !KEY.test(key)) {
    violations.add(field, `key は 1〜${KEY_MAX_LENGTH} 文字の [A-Za-z0-9_.-] で指定してください`);
  }
}
