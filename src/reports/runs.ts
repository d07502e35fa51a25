import { sql } from 'drizzle-orm';
import type { Queryable } from '../ledger/db';

export interface RunRow {
  id: string;
  kind: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  read: number | null;
  accepted: number | null;
  quarantined: number | null;
  invoicesDrafted: number | null;
  invoicesUpdated: number | null;
  pushed: number | null;
  pushFailed: number | null;
  /** Why a failed or abandoned run stopped (secrets are never in a run summary: messages are scrubbed where they are made). */
  error: string | null;
  alerts: string[];
}

/** The latest runs, newest first (served by runs_started_idx). */
export async function recentRuns(q: Queryable, limit = 20): Promise<RunRow[]> {
  return q.rows<RunRow>(sql`
    SELECT id, kind, status, to_json(started_at)#>>'{}' AS "startedAt", to_json(finished_at)#>>'{}' AS "finishedAt",
      (extract(epoch FROM finished_at - started_at) * 1000)::int AS "durationMs",
      (s->>'read')::int AS read, (s->>'accepted')::int AS accepted,
      (s->>'quarantined')::int AS quarantined, (s->>'invoicesDrafted')::int AS "invoicesDrafted",
      (s->>'invoicesUpdated')::int AS "invoicesUpdated", (s->>'pushed')::int AS pushed,
      (s->>'pushFailed')::int AS "pushFailed",
      COALESCE(summary->>'error', summary->>'message') AS error,
      COALESCE(ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(summary->'alerts') = 'array' THEN summary->'alerts' ELSE '[]'::jsonb END)), '{}') AS alerts
    -- The inline runner stores the summary itself, the queue runner the whole result around it.
    FROM runs, LATERAL (SELECT COALESCE(summary->'summary', summary) AS s) x ORDER BY started_at DESC, id DESC LIMIT ${limit}`);
}

/**
 * A fingerprint of the latest runs: it changes when a run starts or finishes, whichever
 * process ran it (inline `sync`, the `ui` command, a queue worker). The live pages poll it.
 */
export async function runsFingerprint(q: Queryable): Promise<string> {
  const rows = await q.rows<{ id: string; status: string }>(sql`SELECT id, status FROM runs ORDER BY started_at DESC, id DESC LIMIT 5`);
  return rows.map((r) => `${r.id}:${r.status}`).join(',');
}
