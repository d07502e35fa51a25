import { sql } from 'drizzle-orm';
import type { Cursor } from '../connectors/contract';
import type { Ledger } from './db';

export interface QuarantineRecord {
  sourceId: string;
  recordRef: string;
  file?: string | undefined;
  row?: number | undefined;
  field?: string | undefined;
  column?: string | undefined;
  reason: string;
  raw?: unknown;
}

/** Record rejected input in one statement; a record seen again keeps its first-seen time. */
export async function quarantineRecords(ledger: Ledger, records: QuarantineRecord[], runId: string): Promise<void> {
  if (records.length === 0) return;
  // One row per (source, ref): if a record has several problems they are joined into one reason.
  const byRef = new Map<string, QuarantineRecord>();
  for (const r of records) {
    const key = `${r.sourceId}\u0000${r.recordRef}`;
    const prev = byRef.get(key);
    byRef.set(key, prev ? { ...prev, reason: `${prev.reason}; ${r.reason}` } : r);
  }
  const list = [...byRef.values()];
  await ledger.rows(sql`
    INSERT INTO quarantine AS q (source_id, record_ref, file, row_number, field, column_name, reason, raw, run_id)
    SELECT source_id, record_ref, file, row_number, field, column_name, reason, raw::jsonb, ${runId}
    FROM unnest(${sql.param(list.map((r) => r.sourceId))}::text[], ${sql.param(list.map((r) => r.recordRef))}::text[],
      ${sql.param(list.map((r) => r.file ?? null))}::text[], ${sql.param(list.map((r) => r.row ?? null))}::int[],
      ${sql.param(list.map((r) => r.field ?? null))}::text[], ${sql.param(list.map((r) => r.column ?? null))}::text[],
      ${sql.param(list.map((r) => r.reason))}::text[], ${sql.param(list.map((r) => (r.raw === undefined ? null : JSON.stringify(r.raw))))}::text[])
      AS t(source_id, record_ref, file, row_number, field, column_name, reason, raw)
    ON CONFLICT (source_id, record_ref) DO UPDATE SET
      file = EXCLUDED.file, row_number = EXCLUDED.row_number, field = EXCLUDED.field, column_name = EXCLUDED.column_name,
      reason = EXCLUDED.reason, raw = EXCLUDED.raw, run_id = EXCLUDED.run_id, last_seen_at = now(), resolved_at = NULL`);
}

/** Records accepted now are no longer in quarantine. */
export async function resolveQuarantine(ledger: Ledger, sourceId: string, recordRefs: string[]): Promise<void> {
  if (recordRefs.length === 0) return;
  await ledger.rows(sql`
    UPDATE quarantine SET resolved_at = now()
    WHERE source_id = ${sourceId} AND resolved_at IS NULL AND record_ref = ANY(${sql.param(recordRefs)}::text[])`);
}

/** After a complete read of a snapshot source: what was not rejected again is gone or fixed. */
export async function resolveQuarantineNotSeen(ledger: Ledger, sourceId: string, runId: string): Promise<void> {
  await ledger.rows(sql`
    UPDATE quarantine SET resolved_at = now()
    WHERE source_id = ${sourceId} AND resolved_at IS NULL AND run_id IS DISTINCT FROM ${runId}`);
}

export async function getCursors(ledger: Ledger, sourceId: string): Promise<Record<string, Cursor>> {
  const rows = await ledger.rows<{ stream: string; cursor: Cursor }>(sql`
    SELECT stream, cursor FROM sync_cursors WHERE source_id = ${sourceId}`);
  return Object.fromEntries(rows.map((r) => [r.stream, r.cursor]));
}

/** Only ever called after the records the cursor covers are in the ledger (invariant 4). */
export async function commitCursor(ledger: Ledger, sourceId: string, stream: string, cursor: Cursor): Promise<void> {
  await ledger.rows(sql`
    INSERT INTO sync_cursors (source_id, stream, cursor) VALUES (${sourceId}, ${stream}, ${JSON.stringify(cursor)}::jsonb)
    ON CONFLICT (source_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`);
}

/** `owner` (host:pid) for a run one process carries out; it then renews `heartbeat_at` (see leases.repository). */
export async function startRun(ledger: Ledger, id: string, kind: string, owner?: string): Promise<void> {
  await ledger.rows(sql`INSERT INTO runs (id, kind, owner, heartbeat_at) VALUES (${id}, ${kind}, ${owner ?? null}, now())`);
}

export async function finishRun(ledger: Ledger, id: string, status: 'succeeded' | 'failed', summary: unknown): Promise<void> {
  await ledger.rows(sql`
    UPDATE runs SET finished_at = now(), status = ${status}, summary = ${JSON.stringify(summary)}::jsonb WHERE id = ${id}`);
}

export async function recordEvent(
  ledger: Ledger,
  runId: string | null,
  kind: string,
  subject: string | null,
  data: unknown,
): Promise<void> {
  await ledger.rows(sql`
    INSERT INTO events (run_id, kind, subject, data) VALUES (${runId}, ${kind}, ${subject}, ${JSON.stringify(data ?? null)}::jsonb)`);
}

export interface RunRow {
  id: string;
  kind: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  summary: unknown;
}

export async function findRun(ledger: Ledger, id: string): Promise<RunRow | undefined> {
  const rows = await ledger.rows<RunRow>(sql`
    SELECT id, kind, status, to_json(started_at)#>>'{}' AS "startedAt", to_json(finished_at)#>>'{}' AS "finishedAt", summary FROM runs WHERE id = ${id}`);
  return rows[0];
}
