import type { Problem } from './validation.js';

/** `config_entries.key` is VARCHAR(255). */
export const KEY_MAX_LENGTH = 255;
const KEY = /^[A-Za-z0-9_.-]+$/;

export function keyProblem(key: unknown, field = 'key'): Problem {
  if (typeof key !== 'string' || key === '') return { field, message: 'key フィールドは必須です' };
  if (key.length > KEY_MAX_LENGTH || !KEY.test(key)) {
    return { field, message: `key は 1〜${KEY_MAX_LENGTH} 文字の [A-Za-z0-9_.-] で指定してください` };
  }
  return undefined;
}
