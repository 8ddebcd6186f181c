import YAML from 'yaml';

export type OutputFormat = 'json' | 'yaml' | 'table';

const cell = (value: unknown): string =>
  value === undefined || value === null
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

/** Columns padded to their widest cell; a single object prints as KEY/VALUE rows. */
export function table(data: unknown): string {
  const rows: Record<string, unknown>[] = Array.isArray(data)
    ? (data as Record<string, unknown>[])
    : typeof data === 'object' && data !== null
      ? Object.entries(data).map(([key, value]) => ({ KEY: key, VALUE: value }))
      : [{ VALUE: data }];
  if (rows.length === 0) return '(none)\n';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const headers = columns.map((c) => c.toUpperCase());
  const widths = columns.map((_, i) => Math.max(headers[i]!.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

export function render(data: unknown, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'yaml') return YAML.stringify(data);
  return table(data);
}

/** One line/document per streamed item (watch, tail): JSON Lines, YAML documents, or table rows. */
export function renderStreamed(item: Record<string, unknown>, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(item)}\n`;
  if (format === 'yaml') return `---\n${YAML.stringify(item)}`;
  return `${Object.values(item).map(cell).join('\t')}\n`;
}
