import type { ConfigEntry, JsonValue } from '@k1s0/config-client';
import YAML from 'yaml';

/** The export/import document: one namespace, its keys with value and description. */
export interface NamespaceDocument {
  namespace: string;
  entries: { key: string; value: JsonValue; description?: string }[];
}

export function toDocument(namespace: string, entries: readonly ConfigEntry[]): NamespaceDocument {
  return {
    namespace,
    entries: entries.map((e) => ({
      key: e.key,
      value: e.value,
      ...(e.description === '' ? {} : { description: e.description }),
    })),
  };
}

export class DocumentError extends Error {}

/** Parses YAML or JSON (JSON is YAML) and checks the shape. */
export function parseDocument(text: string): NamespaceDocument {
  const parsed: unknown = YAML.parse(text);
  const doc = parsed as Partial<NamespaceDocument> | null;
  if (
    doc === null ||
    typeof doc !== 'object' ||
    typeof doc.namespace !== 'string' ||
    !Array.isArray(doc.entries)
  )
    throw new DocumentError('the file must hold {namespace: string, entries: [{key, value, description?}]}');
  for (const [i, e] of doc.entries.entries()) {
    if (typeof e?.key !== 'string' || e.value === undefined || e.value === null)
      throw new DocumentError(`entries[${i}] needs a key and a non-null value`);
    if (e.description !== undefined && typeof e.description !== 'string')
      throw new DocumentError(`entries[${i}].description must be a string`);
  }
  return doc as NamespaceDocument;
}

export type PlannedChange =
  | { action: 'create'; key: string; value: JsonValue; description?: string }
  | { action: 'update'; key: string; version: number; old: JsonValue; value: JsonValue; description?: string }
  | { action: 'unchanged'; key: string }
  | { action: 'extra'; key: string };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What importing `doc` over `current` would do (keys only on the server are reported, not deleted). */
export function plan(doc: NamespaceDocument, current: readonly ConfigEntry[]): PlannedChange[] {
  const byKey = new Map(current.map((e) => [e.key, e]));
  const out: PlannedChange[] = [];
  for (const e of doc.entries) {
    const existing = byKey.get(e.key);
    const description = e.description === undefined ? {} : { description: e.description };
    if (existing === undefined) out.push({ action: 'create', key: e.key, value: e.value, ...description });
    else if (
      !same(existing.value, e.value) ||
      (e.description !== undefined && e.description !== existing.description)
    )
      out.push({
        action: 'update',
        key: e.key,
        version: existing.version,
        old: existing.value,
        value: e.value,
        ...description,
      });
    else out.push({ action: 'unchanged', key: e.key });
    byKey.delete(e.key);
  }
  for (const key of byKey.keys()) out.push({ action: 'extra', key });
  return out;
}

export function describePlan(changes: readonly PlannedChange[]): string {
  return changes
    .map((c) => {
      if (c.action === 'create') return `+ ${c.key} = ${JSON.stringify(c.value)}`;
      if (c.action === 'update') return `~ ${c.key}: ${JSON.stringify(c.old)} -> ${JSON.stringify(c.value)}`;
      if (c.action === 'extra') return `  ${c.key} (only on the server; left as it is)`;
      return `= ${c.key}`;
    })
    .join('\n');
}
