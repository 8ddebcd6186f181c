CREATE TABLE "event_store"."relay_dead_letters" (
	"relay" text NOT NULL,
	"sequence" bigint NOT NULL,
	"stream_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"reason" text NOT NULL,
	"dead_lettered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "relay_dead_letters_relay_sequence_pk" PRIMARY KEY("relay","sequence")
);
