import { unstorableTextPath } from '@k1s0/platform/errors';
import type { ConfigValue } from '../model/json-value.js';
import type { ConfigRules } from './config-rules.js';
import { unstorableTextMessage, type Violations } from './validation.js';

const utf8 = new TextEncoder();

/** Size the value is limited by: UTF-8 bytes of its JSON serialization. */
export function serializedValueBytes(value: ConfigValue): number {
  return utf8.encode(JSON.stringify(value)).length;
}

/** Any JSON except `null`, nested at most `maxValueDepth`, at most `maxValueBytes` serialized. */
export function checkValue(
  violations: Violations,
  value: unknown,
  rules: ConfigRules,
  field = 'value',
): void {
  const message = valueMessage(value, rules);
  if (message !== undefined) violations.add(field, message);
}

function valueMessage(value: unknown, rules: ConfigRules): string | undefined {
  if (value === undefined) return 'value フィールドは必須です';
  if (value === null) return 'value に null は指定できません';
  const shape = jsonShape(value, rules.maxValueDepth);
  if (shape === 'not-json') return 'value は JSON の値で指定してください';
  if (shape === 'too-deep') return `value の入れ子は ${rules.maxValueDepth} 階層以下にしてください`;
  const unstorable = unstorableTextPath(value);
  if (unstorable !== undefined) return unstorableTextMessage(`value${unstorable}`);
  const bytes = serializedValueBytes(value as ConfigValue);
  if (bytes > rules.maxValueBytes) {
    return `value はシリアライズ後 ${rules.maxValueBytes} バイト以下にしてください（${bytes} バイト）`;
  }
  return undefined;
}

/**
 * Walks the value without recursion (so depth can't overflow the stack before we reject it) and
 * checks it is plain JSON: finite numbers, strings, booleans, null, arrays, plain objects.
 */
function jsonShape(root: unknown, maxDepth: number): 'ok' | 'not-json' | 'too-deep' {
  const pending: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value, depth } = item;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return 'not-json';
      continue;
    }
    if (typeof value !== 'object') return 'not-json';
    if (depth >= maxDepth) return 'too-deep';
    let children: unknown[];
    if (Array.isArray(value)) {
      children = value;
    } else {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return 'not-json';
      children = Object.values(value);
    }
    for (const child of children) pending.push({ value: child, depth: depth + 1 });
  }
  return 'ok';
}
