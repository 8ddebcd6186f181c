import type { ConfigEntry, ConfigListQuery, ConfigListResult, ConfigRepository } from '@k1s0/config-domain';
import type { Database } from '@k1s0/platform';
import { and, count, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { entryFromRow } from './rows.js';
import { configEntries } from './schema.js';
import { SecretValues } from './secret-values.js';

/** `%`, `_` and the escape character itself are literal in a search. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Code-unit order, as the ConfigRepository port promises (independent of the database collation). */
const byteOrder = (column: typeof configEntries.namespace | typeof configEntries.key) =>
  sql`${column} collate "C"`;

/** ConfigRepository over `config_server.config_entries`. */
export class PostgresConfigRepository implements ConfigRepository {
  constructor(
    private readonly database: Database,
    /** Without a cipher (the default) secret rows can't be read: fails closed. */
    private readonly values: SecretValues = new SecretValues(undefined),
  ) {}

  async find(namespace: string, key: string): Promise<ConfigEntry | undefined> {
    const [row] = await this.database.db
      .select()
      .from(configEntries)
      .where(and(eq(configEntries.namespace, namespace), eq(configEntries.key, key)));
    return row === undefined ? undefined : entryFromRow(row, this.values);
  }

  async list(namespace: string, query: ConfigListQuery): Promise<ConfigListResult> {
    const conditions: SQL[] = [eq(configEntries.namespace, namespace)];
    if (query.search !== undefined) {
      conditions.push(sql`${configEntries.key} ilike ${likePattern(query.search)} escape '\\'`);
    }
    const where = and(...conditions);
    const [rows, totals] = await Promise.all([
      this.database.db
        .select()
        .from(configEntries)
        .where(where)
        .orderBy(byteOrder(configEntries.key))
        .limit(query.limit)
        .offset(query.offset),
      this.database.db.select({ total: count() }).from(configEntries).where(where),
    ]);
    return { entries: rows.map((row) => entryFromRow(row, this.values)), total: totals[0]?.total ?? 0 };
  }

  async findByService(serviceSegments: readonly string[]): Promise<ConfigEntry[]> {
    if (serviceSegments.length === 0) return [];
    const rows = await this.database.db
      .select()
      .from(configEntries)
      .where(inArray(sql`split_part(${configEntries.namespace}, '.', 2)`, [...serviceSegments]))
      .orderBy(byteOrder(configEntries.namespace), byteOrder(configEntries.key));
    return rows.map((row) => entryFromRow(row, this.values));
  }
}
