ALTER TABLE "config_server"."config_change_logs" ADD COLUMN "secret" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "config_server"."config_entries" ADD COLUMN "secret" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "config_server"."config_entries" ADD COLUMN "metadata" jsonb;