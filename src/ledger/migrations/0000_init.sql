CREATE TABLE "connections" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"tenant_id" text,
	"secret" text NOT NULL,
	"expires_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"subject" text,
	"data" jsonb
);
--> statement-breakpoint
CREATE TABLE "invoice_entries" (
	"entry_id" bigint NOT NULL,
	"invoice_id" bigint NOT NULL,
	"entry_revision" integer NOT NULL,
	"live" boolean DEFAULT true NOT NULL,
	"lines" jsonb NOT NULL,
	"credit" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invoice_entries_entry_id_invoice_id_pk" PRIMARY KEY("entry_id","invoice_id")
);
--> statement-breakpoint
CREATE TABLE "invoice_lines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"invoice_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"line_key" text NOT NULL,
	"description" text NOT NULL,
	"quantity" numeric(20, 6) NOT NULL,
	"unit_price" numeric(20, 6) NOT NULL,
	"amount" numeric(20, 6) NOT NULL,
	"remote_line_id" text
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"client_id" text NOT NULL,
	"destination_id" text NOT NULL,
	"currency" text NOT NULL,
	"period_start" date NOT NULL,
	"period_end" date NOT NULL,
	"period_label" text NOT NULL,
	"sequence" integer NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"live" boolean DEFAULT true NOT NULL,
	"hours" numeric(20, 6) NOT NULL,
	"total" numeric(20, 6) NOT NULL,
	"issue_date" date NOT NULL,
	"due_date" date NOT NULL,
	"content_hash" text NOT NULL,
	"pushed_hash" text,
	"remote_id" text,
	"remote_status" text,
	"remote_total" numeric(20, 6),
	"last_error" text,
	"draft" jsonb NOT NULL,
	"pushed_snapshot" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"record_ref" text NOT NULL,
	"file" text,
	"row_number" integer,
	"field" text,
	"column_name" text,
	"reason" text NOT NULL,
	"raw" jsonb,
	"run_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "rated_lines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"entry_id" bigint NOT NULL,
	"entry_revision" integer NOT NULL,
	"piece" integer NOT NULL,
	"kind" text NOT NULL,
	"client_id" text NOT NULL,
	"currency" text NOT NULL,
	"work_date" date NOT NULL,
	"quantity" numeric(20, 6) NOT NULL,
	"unit_price" numeric(20, 6) NOT NULL,
	"amount" numeric(20, 6) NOT NULL,
	"rule" text NOT NULL,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"summary" jsonb
);
--> statement-breakpoint
CREATE TABLE "sync_cursors" (
	"source_id" text NOT NULL,
	"stream" text NOT NULL,
	"cursor" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_cursors_source_id_stream_pk" PRIMARY KEY("source_id","stream")
);
--> statement-breakpoint
CREATE TABLE "time_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source_id" text NOT NULL,
	"external_id" text NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"content_hash" text NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"status_reason" text,
	"client_id" text,
	"worker" text NOT NULL,
	"work_date" date NOT NULL,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"duration_seconds" integer NOT NULL,
	"break_seconds" integer DEFAULT 0 NOT NULL,
	"billable" boolean NOT NULL,
	"approved" boolean,
	"billed_at_source" boolean DEFAULT false NOT NULL,
	"data" jsonb NOT NULL,
	"rated_with" text,
	"last_seen_run" text,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "invoice_entries" ADD CONSTRAINT "invoice_entries_entry_id_time_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."time_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice_entries" ADD CONSTRAINT "invoice_entries_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rated_lines" ADD CONSTRAINT "rated_lines_entry_id_time_entries_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."time_entries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_run_idx" ON "events" USING btree ("run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_entries_one_live_uq" ON "invoice_entries" USING btree ("entry_id") WHERE "invoice_entries"."live";--> statement-breakpoint
CREATE INDEX "invoice_entries_invoice_idx" ON "invoice_entries" USING btree ("invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invoice_lines_invoice_key_uq" ON "invoice_lines" USING btree ("invoice_id","line_key");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_key_uq" ON "invoices" USING btree ("key");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_slot_uq" ON "invoices" USING btree ("client_id","destination_id","period_label","sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "quarantine_source_ref_uq" ON "quarantine" USING btree ("source_id","record_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "rated_lines_entry_piece_uq" ON "rated_lines" USING btree ("entry_id","piece");--> statement-breakpoint
CREATE INDEX "rated_lines_client_date_idx" ON "rated_lines" USING btree ("client_id","work_date");--> statement-breakpoint
CREATE UNIQUE INDEX "time_entries_source_external_uq" ON "time_entries" USING btree ("source_id","external_id");--> statement-breakpoint
CREATE INDEX "time_entries_client_date_idx" ON "time_entries" USING btree ("client_id","work_date");