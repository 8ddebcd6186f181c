ALTER TABLE "config_server"."config_change_logs" ADD COLUMN "secret" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "config_server"."config_entries" ADD COLUMN "secret" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "config_server"."config_entries" ADD COLUMN "metadata" jsonb;--> statement-breakpoint
CREATE INDEX "idx_config_change_logs_secret" ON "config_server"."config_change_logs" USING btree ("id") WHERE "config_server"."config_change_logs"."secret";--> statement-breakpoint
CREATE INDEX "idx_config_entries_secret" ON "config_server"."config_entries" USING btree ("id") WHERE "config_server"."config_entries"."secret";