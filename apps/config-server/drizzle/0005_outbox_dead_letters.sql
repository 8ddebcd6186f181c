CREATE TABLE "config_server"."outbox_dead_letters" (
	"id" bigint PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"key" text NOT NULL,
	"value" "bytea" NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"dead_lettered_at" timestamp with time zone DEFAULT now() NOT NULL
);
