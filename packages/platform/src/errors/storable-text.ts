/**
 * Text PostgreSQL cannot store: `text` and `jsonb` reject U+0000, and `jsonb` rejects unpaired
 * UTF-16 surrogates (JSON.parse accepts both, so they reach us as valid JSON). Rules check input
 * with this so such requests get a 400 naming the field instead of a database error.
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);
}

/**
 * Where in a JSON value the first unstorable string (or object key) is, as a suffix of the value's
 * field name (`''` = the value itself, `.a[2]`, …); undefined when everything can be stored.
 * Iterative, so a deeply nested value cannot overflow the stack.
 */
export function unstorableTextPath(root: unknown): string | undefined {
  const pending: Array<{ value: unknown; path: string }> = [{ value: root, path: '' }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value, path } = item;
    if (typeof value === 'string') {
      if (!isStorableText(value)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((element, index) => {
        pending.push({ value: element, path: `${path}[${index}]` });
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, element] of Object.entries(value)) {
        if (!isStorableText(key)) return path;
        pending.push({ value: element, path: `${path}.${key}` });
      }
    }
  }
  return undefined;
}
