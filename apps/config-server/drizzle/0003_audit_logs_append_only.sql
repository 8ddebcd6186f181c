-- audit_logs is append-only (SPEC §8): auditLogsAppendOnlySql('config_server') from @k1s0/platform
-- (audit/audit-logs-table.ts); test/access-control.test.ts checks this file matches it.
CREATE OR REPLACE FUNCTION "config_server"."audit_logs_reject_change"()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'config_server.audit_logs is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_update_delete" BEFORE UPDATE OR DELETE ON "config_server"."audit_logs"
  FOR EACH ROW EXECUTE FUNCTION "config_server"."audit_logs_reject_change"();
--> statement-breakpoint
CREATE TRIGGER "audit_logs_no_truncate" BEFORE TRUNCATE ON "config_server"."audit_logs"
  FOR EACH STATEMENT EXECUTE FUNCTION "config_server"."audit_logs_reject_change"();
