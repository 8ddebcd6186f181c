import { sql } from 'drizzle-orm';
import { index, type PgSchema, pgSchema, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

/**
 * A service's API keys (design 003 §2 `api_keys`, SPEC §8), one table per service schema. Only an
 * HMAC of the secret is kept (see apikeys/api-key-secret.ts); `id` is also the lookup part of
 * the presented key, so verifying one is a primary-key read. Revoked keys stay (revoked_at set):
 * their name is never reused, so the actor `apikey:<name>` names one key forever.
 * Put it in the app's drizzle schema file: `export const apiKeys = apiKeysTable(mySchema)`.
 */
export function apiKeysTable(schema: PgSchema | string) {
  const owner = typeof schema === 'string' ? pgSchema(schema) : schema;
  return owner.table(
    'api_keys',
    {
      id: uuid('id').primaryKey(),
      name: varchar('name', { length: 100 }).notNull().unique('uq_api_keys_name'),
      roles: text('roles').array().notNull(),
      /** Namespace / stream-id patterns; null = unscoped. */
      scopes: text('scopes').array(),
      /** HMAC-SHA256(salt, secret), hex. */
      secretHash: varchar('secret_hash', { length: 64 }).notNull(),
      salt: varchar('salt', { length: 32 }).notNull(),
      createdBy: varchar('created_by', { length: 255 }).notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      expiresAt: timestamp('expires_at', { withTimezone: true }),
      lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
      revokedAt: timestamp('revoked_at', { withTimezone: true }),
      revokedBy: varchar('revoked_by', { length: 255 }),
    },
    (t) => [index('idx_api_keys_active').on(t.createdAt).where(sql`${t.revokedAt} IS NULL`)],
  );
}

export type ApiKeysTable = ReturnType<typeof apiKeysTable>;
