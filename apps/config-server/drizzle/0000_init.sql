-- IF NOT EXISTS: the migrator creates this schema first for its own bookkeeping table.
CREATE SCHEMA IF NOT EXISTS "config_server";
--> statement-breakpoint
CREATE SEQUENCE "config_server"."config_change_logs_revision_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "config_server"."change_log_retention" (
	"id" integer PRIMARY KEY NOT NULL,
	"pruned_through_revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "config_server"."config_change_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"revision" bigint NOT NULL,
	"tx_id" "xid8" NOT NULL,
	"config_entry_id" uuid NOT NULL,
	"namespace" varchar(255) NOT NULL,
	"key" varchar(255) NOT NULL,
	"old_value" jsonb,
	"new_value" jsonb,
	"old_version" integer DEFAULT 0 NOT NULL,
	"new_version" integer NOT NULL,
	"change_type" varchar(20) NOT NULL,
	"changed_by" varchar(255) NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_config_change_logs_revision" UNIQUE("revision"),
	CONSTRAINT "config_change_logs_change_type_check" CHECK ("config_server"."config_change_logs"."change_type" IN ('CREATED', 'UPDATED', 'DELETED'))
);
--> statement-breakpoint
CREATE TABLE "config_server"."config_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"namespace" varchar(255) NOT NULL,
	"key" varchar(255) NOT NULL,
	"value" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by" varchar(255) NOT NULL,
	"updated_by" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "uq_config_entries_namespace_key" UNIQUE("namespace","key")
);
--> statement-breakpoint
CREATE TABLE "config_server"."outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "config_server"."outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"topic" text NOT NULL,
	"key" text NOT NULL,
	"value" "bytea" NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_config_entry_id" ON "config_server"."config_change_logs" USING btree ("config_entry_id");--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_namespace" ON "config_server"."config_change_logs" USING btree ("namespace");--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_changed_at" ON "config_server"."config_change_logs" USING btree ("changed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_changed_by" ON "config_server"."config_change_logs" USING btree ("changed_by");--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_change_type" ON "config_server"."config_change_logs" USING btree ("change_type");--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_entry_changed" ON "config_server"."config_change_logs" USING btree ("config_entry_id","changed_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_ns_key_revision" ON "config_server"."config_change_logs" USING btree ("namespace","key","revision" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_config_entries_namespace" ON "config_server"."config_entries" USING btree ("namespace");--> statement-breakpoint
CREATE INDEX "idx_config_entries_key" ON "config_server"."config_entries" USING btree ("key");--> statement-breakpoint
CREATE INDEX "idx_config_entries_updated_at" ON "config_server"."config_entries" USING btree ("updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_config_entries_namespace_prefix" ON "config_server"."config_entries" USING btree ("namespace" varchar_pattern_ops);