-- Global event log allocator: orderedLogFunctionSql(eventsLog) from src/persistence/ordered-log.ts
-- (platform db/ordered-log.ts). Appends draw their sequences through it as their first write.
CREATE OR REPLACE FUNCTION "event_store"."allocate_sequences"(n integer)
RETURNS TABLE (tx_id xid8, seq bigint)
LANGUAGE plpgsql AS $$
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'allocate_sequences must be the first write of its transaction';
  END IF;
  PERFORM pg_advisory_lock(700002);
  BEGIN
    RETURN QUERY SELECT pg_current_xact_id(), nextval('event_store.events_sequence_seq') FROM generate_series(1, n);
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_advisory_unlock(700002);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(700002);
END
$$;
--> statement-breakpoint
-- Append-only is enforced by the database itself (SPEC §6): an event can never be updated, and
-- only the delete-stream adapter, which sets event_store.allow_delete = 'on' for its own
-- transaction (set_config(..., true)), can delete events.
CREATE OR REPLACE FUNCTION "event_store"."events_reject_update"()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'event_store.events is append-only: UPDATE is not allowed'
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "event_store"."events_guard_delete"()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('event_store.allow_delete', true), '') <> 'on' THEN
    RAISE EXCEPTION 'event_store.events is append-only: DELETE is only allowed to the delete-stream operation'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "event_store"."events_reject_truncate"()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'event_store.events is append-only: TRUNCATE is not allowed'
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "events_no_update" BEFORE UPDATE ON "event_store"."events"
  FOR EACH ROW EXECUTE FUNCTION "event_store"."events_reject_update"();
--> statement-breakpoint
CREATE TRIGGER "events_guarded_delete" BEFORE DELETE ON "event_store"."events"
  FOR EACH ROW EXECUTE FUNCTION "event_store"."events_guard_delete"();
--> statement-breakpoint
CREATE TRIGGER "events_no_truncate" BEFORE TRUNCATE ON "event_store"."events"
  FOR EACH STATEMENT EXECUTE FUNCTION "event_store"."events_reject_truncate"();
