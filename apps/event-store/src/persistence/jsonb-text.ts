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
