ALTER TABLE "invoices" ADD COLUMN "remote_tax" numeric(20, 6);--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "remote_gross" numeric(20, 6);--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "remote_type" text;
