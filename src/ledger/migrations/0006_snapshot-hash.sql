ALTER TABLE "time_entries" ADD COLUMN "snapshot_hash" text;--> statement-breakpoint
ALTER TABLE "time_entries" DROP COLUMN "last_seen_run";
