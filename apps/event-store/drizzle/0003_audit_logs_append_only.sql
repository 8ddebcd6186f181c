-- audit_logs is append-only (SPEC §8): auditLogsAppendOnlySql('event_store') from @k1s0/platform
-- (audit/audit-logs-table.ts); test/access-control.test.ts checks this file matches it.
CREATE OR REPLACE FUNCTION "event_store"."audit_logs_reject_change"()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'event_store.audit_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_update_delete" BEFORE UPDATE OR DELETE ON "event_store"."audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "event_store"."audit_logs_reject_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_truncate" BEFORE TRUNCATE ON "event_store"."audit_logs"
  FOR EACH STATEMENT EXECUTE FUNCTION "event_store"."audit_logs_reject_change"();
