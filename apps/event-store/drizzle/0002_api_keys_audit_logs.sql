CREATE TABLE "event_store"."api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(100) NOT NULL,
	"roles" text[] NOT NULL,
	"scopes" text[],
	"secret_hash" varchar(64) NOT NULL,
	"salt" varchar(32) NOT NULL,
	"created_by" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" varchar(255),
	CONSTRAINT "uq_api_keys_name" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "event_store"."audit_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "event_store"."audit_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"action" varchar(50) NOT NULL,
	"actor" varchar(255) NOT NULL,
	"target" varchar(512),
	"outcome" varchar(20) NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idx_api_keys_active" ON "event_store"."api_keys" USING btree ("created_at") WHERE "event_store"."api_keys"."revoked_at" IS NULL;--> statement-breakpoint
CREATE INDEX "idx_audit_logs_action_id" ON "event_store"."audit_logs" USING btree ("action","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_audit_logs_actor_id" ON "event_store"."audit_logs" USING btree ("actor","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_audit_logs_at" ON "event_store"."audit_logs" USING btree ("at" DESC NULLS LAST);