ALTER TABLE "time_entries" ADD COLUMN "snapshot_hash" text;--> statement-breakpoint
ALTER TABLE "time_entries" DROP COLUMN "last_seen_run";
--> statement-breakpoint
CREATE TABLE "assembly_marks" (
	"client_id" text PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 1 NOT NULL,
	"assembled_version" bigint,
	"fingerprint" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
