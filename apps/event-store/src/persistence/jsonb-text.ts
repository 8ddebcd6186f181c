import type { JsonValue } from '@k1s0/eventstore-domain';

/**
 * PostgreSQL prints jsonb as `{"a": 1, "b": [1, 2]}`: one space after every `:` and `,` between
 * tokens, and nowhere else outside strings. JSON.stringify(JSON.parse(that)) is the same text
 * without those spaces, except where JavaScript rewrites what it parsed:
 * - numbers with a fraction or exponent, or too many digits to be exact (`2.50` → `2.5`);
 * - integer-like object keys, which a JS object orders first (jsonb orders keys by length, then bytes).
 * Strings need nothing: jsonb and JSON.stringify escape the same characters the same way
 * (`\"`, `\\`, `\b\f\n\r\t`, other controls as lowercase `\u00xx`, everything else literal).
 *
 * `compactJsonbText` drops the spaces in one pass and answers undefined when the text holds one of
 * those cases, so the caller falls back to JSON.stringify(JSON.parse(text)). Reads of events send
 * the compact text without building the payload's objects twice (issue 13).
 */
export function compactJsonbText(text: string): string | undefined {
  let out = '';
  let from = 0; // start of the text not yet copied to `out`
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      // A key (`"k": …`) that a JS object would move to the front.
      if (text.charCodeAt(end + 1) === COLON && isDigits(text, i + 1, end)) return undefined;
      i = end + 1;
    } else if (c === SPACE) {
      out += text.slice(from, i);
      from = ++i;
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = i;
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      if (!isExactInteger(text, start, i)) return undefined;
    } else {
      i++;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SPACE = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** Index of the quote closing the string that opens at `open` (-1: none). */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

function isDigits(text: string, start: number, end: number): boolean {
  if (start === end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

function isNumberChar(c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === MINUS || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

/** `-?digits`, at most 15 digits (exact as a double, printed back the same), not `-0`. */
function isExactInteger(text: string, start: number, end: number): boolean {
  const digitsFrom = text.charCodeAt(start) === MINUS ? start + 1 : start;
  const digits = end - digitsFrom;
  if (digits < 1 || digits > 15 || !isDigits(text, digitsFrom, end)) return false;
  return !(digitsFrom > start && digits === 1 && text.charCodeAt(digitsFrom) === ZERO);
}

/**
 * The text a read of this value from a jsonb column gives the ordinary mapping:
 * JSON.stringify(JSON.parse(<jsonb's text>)), computed without the database. jsonb keeps the last
 * of duplicate keys (as JSON.parse does) and orders an object's keys by their UTF-8 length, then
 * their bytes; numbers and strings come back as the same JS values (a double's shortest text is an
 * exact decimal, printed back as such). So: the same value with every object's keys inserted in
 * jsonb's order (a JS object still puts integer-like keys first, as JSON.parse of the read would),
 * stringified. `text`, JSON.stringify(value) if the caller has it, is the answer when no object
 * needs reordering. The append writes it into the wire body (issue 13); `jsonb-text.test.ts`
 * checks it against PostgreSQL.
 */
export function jsonbOrderedText(value: JsonValue, text?: string): string {
  const ordered = inJsonbOrder(value);
  return ordered === value && text !== undefined ? text : JSON.stringify(ordered);
}

/** `value` itself when every object in it already enumerates its keys in jsonb order, else a reordered copy. */
function inJsonbOrder(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: JsonValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = inJsonbOrder(value[i] as JsonValue);
      if (item !== value[i]) {
        copy ??= value.slice();
        copy[i] = item;
      }
    }
    return copy ?? value;
  }
  const keys = Object.keys(value);
  let changed = false;
  const children: JsonValue[] = new Array(keys.length);
  let previous: string | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const child = value[key] as JsonValue;
    children[i] = inJsonbOrder(child);
    if (children[i] !== child) changed = true;
    // A JS object enumerates integer-like keys first whatever the order they were added in.
    if (isArrayIndex(key)) continue;
    if (previous !== undefined && jsonbKeyOrder(previous, key) > 0) changed = true;
    previous = key;
  }
  if (!changed) return value;
  const order = keys.map((_, i) => i).sort((a, b) => jsonbKeyOrder(keys[a] as string, keys[b] as string));
  const out: { [key: string]: JsonValue } = {};
  for (const i of order) {
    const key = keys[i] as string;
    // An own "__proto__" property, as JSON.parse makes it (assignment would set the prototype).
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: children[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = children[i] as JsonValue;
  }
  return out;
}

/** Keys a JS object orders first: canonical decimal integers below 2^32 - 1. */
function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  if (!(first >= 0x30 && first <= 0x39)) return false;
  return /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** PostgreSQL's jsonb key order: shorter UTF-8 first, then bytewise. */
function jsonbKeyOrder(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) {
    if (a.length !== b.length) return a.length - b.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length !== y.length ? x.length - y.length : Buffer.compare(x, y);
}
