CREATE INDEX IF NOT EXISTS "runs_started_idx" ON "runs" USING btree ("started_at" DESC,"id" DESC);
