import { bigint, index, jsonb, type PgSchema, pgSchema, timestamp, varchar } from 'drizzle-orm/pg-core';

/**
 * A service's audit trail (design 003 §2 `audit_logs`, SPEC §8), append-only: the app's migration
 * adds the triggers of `auditLogsAppendOnlySql`. `id` increases with insertion, so "newest first"
 * is `id DESC`. Put it in the app's drizzle schema file: `export const auditLogs = auditLogsTable(mySchema)`.
 */
export function auditLogsTable(schema: PgSchema | string) {
  const owner = typeof schema === 'string' ? pgSchema(schema) : schema;
  return owner.table(
    'audit_logs',
    {
      id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
      action: varchar('action', { length: 50 }).notNull(),
      actor: varchar('actor', { length: 255 }).notNull(),
      target: varchar('target', { length: 512 }),
      outcome: varchar('outcome', { length: 20 }).notNull(),
      details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
      at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [
      index('idx_audit_logs_action_id').on(t.action, t.id.desc()),
      index('idx_audit_logs_actor_id').on(t.actor, t.id.desc()),
      index('idx_audit_logs_at').on(t.at.desc()),
    ],
  );
}

export type AuditLogsTable = ReturnType<typeof auditLogsTable>;

/**
 * The triggers that make `<schema>.audit_logs` append-only (as event_store.events): UPDATE,
 * DELETE and TRUNCATE are refused by the database itself, whoever asks. Apps put this SQL in a
 * drizzle-kit custom migration; a test compares the two.
 */
export function auditLogsAppendOnlySql(schema: string): string {
  const fn = (name: string) => `"${schema}"."${name}"`;
  return `CREATE OR REPLACE FUNCTION ${fn('audit_logs_reject_change')}()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${schema}.audit_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_update_delete" BEFORE UPDATE OR DELETE ON ${fn('audit_logs')}
  FOR EACH ROW EXECUTE FUNCTION ${fn('audit_logs_reject_change')}();
--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_truncate" BEFORE TRUNCATE ON ${fn('audit_logs')}
  FOR EACH STATEMENT EXECUTE FUNCTION ${fn('audit_logs_reject_change')}();
`;
}
