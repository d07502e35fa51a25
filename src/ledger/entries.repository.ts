import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { TimeEntry } from '../domain/time-entry';
import type { Ledger } from './db';

/**
 * Content hash of an entry: every field that can change what is billed or reported, and
 * nothing that changes when a row merely moves or is re-fetched (row number, fetchedAt).
 */
export function entryContentHash(entry: TimeEntry): string {
  const { provenance, ...content } = entry;
  void provenance;
  return createHash('sha256').update(stableJson(content)).digest('base64url').slice(0, 32);
}

/** JSON with sorted keys, so equal content always hashes equally. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
    .join(',')}}`;
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * Set-based upsert of one page of entries (one statement, arrays unnested server-side):
 * new keys are inserted at revision 1; a changed hash (or a deleted entry that came back)
 * bumps the revision and sends the entry back to `new` for re-pricing; every seen entry is
 * stamped with the run, which is how snapshot sources detect deletions.
 */
export async function upsertEntries(ledger: Ledger, entries: TimeEntry[], runId: string): Promise<UpsertCounts> {
  if (entries.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const n = entries.length;
  const cols = {
    source: new Array<string>(n),
    ext: new Array<string>(n),
    hash: new Array<string>(n),
    client: new Array<string | null>(n),
    worker: new Array<string>(n),
    date: new Array<string>(n),
    start: new Array<string | null>(n),
    end: new Array<string | null>(n),
    dur: new Array<number>(n),
    brk: new Array<number>(n),
    billable: new Array<boolean>(n),
    approved: new Array<boolean | null>(n),
    billed: new Array<boolean>(n),
    data: new Array<string>(n),
  };
  // Last one wins if a page repeats a key (it must not reach the statement twice).
  const seen = new Map<string, number>();
  let k = 0;
  for (const e of entries) {
    const key = `${e.sourceId}\u0000${e.externalId}`;
    const at = seen.get(key) ?? k++;
    seen.set(key, at);
    cols.source[at] = e.sourceId;
    cols.ext[at] = e.externalId;
    cols.hash[at] = entryContentHash(e);
    cols.client[at] = e.clientId ?? null;
    cols.worker[at] = e.worker.name;
    cols.date[at] = e.date;
    cols.start[at] = e.start ?? null;
    cols.end[at] = e.end ?? null;
    cols.dur[at] = e.durationSeconds;
    cols.brk[at] = e.breakSeconds;
    cols.billable[at] = e.billable;
    cols.approved[at] = e.approved;
    cols.billed[at] = e.billedAtSource;
    cols.data[at] = JSON.stringify(e);
  }
  for (const list of Object.values(cols)) list.length = k;
  const rows = await ledger.rows<{ inserted: number; updated: number; unchanged: number }>(sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${sql.param(cols.source)}::text[], ${sql.param(cols.ext)}::text[], ${sql.param(cols.hash)}::text[],
        ${sql.param(cols.client)}::text[], ${sql.param(cols.worker)}::text[], ${sql.param(cols.date)}::date[],
        ${sql.param(cols.start)}::timestamptz[], ${sql.param(cols.end)}::timestamptz[], ${sql.param(cols.dur)}::int[],
        ${sql.param(cols.brk)}::int[], ${sql.param(cols.billable)}::bool[], ${sql.param(cols.approved)}::bool[],
        ${sql.param(cols.billed)}::bool[], ${sql.param(cols.data)}::text[]
      ) AS t(source_id, external_id, content_hash, client_id, worker, work_date, start_at, end_at,
             duration_seconds, break_seconds, billable, approved, billed_at_source, data)
    ),
    prev AS (
      SELECT te.source_id, te.external_id, te.content_hash, te.deleted_at
      FROM time_entries te JOIN input i ON te.source_id = i.source_id AND te.external_id = i.external_id
    ),
    up AS (
      INSERT INTO time_entries AS te (source_id, external_id, content_hash, client_id, worker, work_date, start_at,
        end_at, duration_seconds, break_seconds, billable, approved, billed_at_source, data, last_seen_run)
      SELECT source_id, external_id, content_hash, client_id, worker, work_date, start_at, end_at, duration_seconds,
        break_seconds, billable, approved, billed_at_source, data::jsonb, ${runId} FROM input
      ON CONFLICT (source_id, external_id) DO UPDATE SET
        last_seen_run = EXCLUDED.last_seen_run,
        revision = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN te.revision + 1 ELSE te.revision END,
        status = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN 'new' ELSE te.status END,
        rated_with = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN NULL ELSE te.rated_with END,
        updated_at = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN now() ELSE te.updated_at END,
        content_hash = EXCLUDED.content_hash, client_id = EXCLUDED.client_id, worker = EXCLUDED.worker,
        work_date = EXCLUDED.work_date, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,
        duration_seconds = EXCLUDED.duration_seconds, break_seconds = EXCLUDED.break_seconds,
        billable = EXCLUDED.billable, approved = EXCLUDED.approved, billed_at_source = EXCLUDED.billed_at_source,
        data = EXCLUDED.data, deleted_at = NULL
      RETURNING 1
    )
    SELECT
      (SELECT count(*) FROM input i WHERE NOT EXISTS (SELECT 1 FROM prev p WHERE p.source_id = i.source_id AND p.external_id = i.external_id))::int AS inserted,
      (SELECT count(*) FROM input i JOIN prev p ON p.source_id = i.source_id AND p.external_id = i.external_id
        WHERE p.content_hash <> i.content_hash OR p.deleted_at IS NOT NULL)::int AS updated,
      (SELECT count(*) FROM input i JOIN prev p ON p.source_id = i.source_id AND p.external_id = i.external_id
        WHERE p.content_hash = i.content_hash AND p.deleted_at IS NULL)::int AS unchanged,
      (SELECT count(*) FROM up)::int AS written
  `);
  const r = rows[0]!;
  return { inserted: r.inserted, updated: r.updated, unchanged: r.unchanged + (n - k) };
}

/**
 * Mark entries deleted at source: those of `sourceId` not seen in `runId` whose work date lies
 * in [from, to] (null = unbounded), plus explicitly reported ids. Returns how many changed.
 */
export async function markDeleted(
  ledger: Ledger,
  sourceId: string,
  runId: string,
  range: { from: string | null; to: string | null } | null,
  externalIds: string[] = [],
): Promise<number> {
  let count = 0;
  if (range) {
    const rows = await ledger.rows<{ n: number }>(sql`
      WITH d AS (
        UPDATE time_entries SET status = 'deleted', deleted_at = now(), revision = revision + 1, updated_at = now(), rated_with = NULL
        WHERE source_id = ${sourceId} AND deleted_at IS NULL AND last_seen_run IS DISTINCT FROM ${runId}
          AND (${range.from}::date IS NULL OR work_date >= ${range.from}::date)
          AND (${range.to}::date IS NULL OR work_date <= ${range.to}::date)
        RETURNING 1)
      SELECT count(*)::int AS n FROM d`);
    count += rows[0]!.n;
  }
  if (externalIds.length > 0) {
    const rows = await ledger.rows<{ n: number }>(sql`
      WITH d AS (
        UPDATE time_entries SET status = 'deleted', deleted_at = now(), revision = revision + 1, updated_at = now(), rated_with = NULL
        WHERE source_id = ${sourceId} AND deleted_at IS NULL AND external_id = ANY(${sql.param(externalIds)}::text[])
        RETURNING 1)
      SELECT count(*)::int AS n FROM d`);
    count += rows[0]!.n;
  }
  return count;
}

export interface StoredEntry {
  id: number;
  revision: number;
  status: string;
  entry: TimeEntry;
}

/** One entry by its key, or undefined. */
export async function findEntry(ledger: Ledger, sourceId: string, externalId: string): Promise<StoredEntry | undefined> {
  const rows = await ledger.rows<{ id: number; revision: number; status: string; data: TimeEntry }>(sql`
    SELECT id::int AS id, revision, status, data FROM time_entries WHERE source_id = ${sourceId} AND external_id = ${externalId}`);
  const r = rows[0];
  return r ? { id: r.id, revision: r.revision, status: r.status, entry: r.data } : undefined;
}
