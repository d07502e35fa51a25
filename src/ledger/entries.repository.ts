import { hash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { TimeEntry } from '../domain/time-entry';
import type { Ledger } from './db';
import { CopyWriter } from './copy-text';

/**
 * Content hash of an entry: every field that can change what is billed or reported, and
 * nothing that changes when a row merely moves or is re-fetched (provenance: row number,
 * fetchedAt). Fields are written in a fixed order by hand rather than through a generic
 * sorted-keys serialiser because this runs once per ingested row (a million rows in the
 * ingest benchmark) and the generic one cost 4x more; a test checks that every TimeEntry
 * field is covered, so a new field cannot be forgotten.
 */
export function entryContentHash(e: TimeEntry): string {
  const text = [
    e.sourceId,
    e.externalId,
    e.worker.id ?? '',
    e.worker.name,
    e.client,
    e.clientId ?? '',
    e.project ?? '',
    e.task ?? '',
    e.role ?? '',
    e.tags.length ? JSON.stringify(e.tags) : '',
    e.date,
    e.start ?? '',
    e.end ?? '',
    e.durationSeconds,
    e.breakSeconds,
    e.timeZone,
    e.billable ? 1 : 0,
    e.approved === null ? '' : e.approved ? 1 : 0,
    e.billedAtSource ? 1 : 0,
    e.notes ?? '',
    e.sourceRate ?? '',
    e.sourceCurrency ?? '',
    e.costRate ?? '',
    e.extras.length ? stableJson(e.extras) : '',
  ].join('\u001f');
  // crypto.hash is the one-shot form of createHash().update().digest(): same bytes, no Hash object per row.
  return hash('sha256', text, 'base64url').slice(0, 32);
}

/** The TimeEntry fields the content hash covers (all but provenance); checked by a test. */
export const HASHED_FIELDS = [
  'sourceId', 'externalId', 'worker', 'client', 'clientId', 'project', 'task', 'role', 'tags', 'date', 'start', 'end',
  'durationSeconds', 'breakSeconds', 'timeZone', 'billable', 'approved', 'billedAtSource', 'notes', 'sourceRate',
  'sourceCurrency', 'costRate', 'extras',
] as const;

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

type UpsertRow = { inserted: number; updated: number; unchanged: number };

/** Pages at least this large go through COPY on a PostgreSQL server. */
const COPY_THRESHOLD = 500;
const STAGE = {
  name: 'hb_stage_entries',
  columns: ['source_id', 'external_id', 'content_hash', 'client_id', 'worker', 'work_date', 'start_at', 'end_at',
    'duration_seconds', 'break_seconds', 'billable', 'approved', 'billed_at_source', 'data'],
} as const;

/** The page as COPY text for the stage table, in 64 KB pieces (see copy-text.ts). */
function copyChunks(cols: {
  source: string[]; ext: string[]; hash: string[]; client: Array<string | null>; worker: string[]; date: string[];
  start: Array<string | null>; end: Array<string | null>; dur: number[]; brk: number[]; billable: boolean[];
  approved: Array<boolean | null>; billed: boolean[]; data: string[];
}, k: number): Buffer[] {
  const w = new CopyWriter();
  for (let i = 0; i < k; i++) {
    w.text(cols.source[i]);
    w.text(cols.ext[i]);
    w.text(cols.hash[i]);
    w.text(cols.client[i]);
    w.text(cols.worker[i]);
    w.text(cols.date[i]);
    w.text(cols.start[i]);
    w.text(cols.end[i]);
    w.value(cols.dur[i]);
    w.value(cols.brk[i]);
    w.value(cols.billable[i]);
    w.value(cols.approved[i]);
    w.value(cols.billed[i]);
    w.text(cols.data[i], true);
  }
  return w.take();
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
  const input = ledger.copyThen && k >= COPY_THRESHOLD ? sql`SELECT * FROM ${sql.raw(STAGE.name)}` : sql`
      SELECT * FROM unnest(
        ${sql.param(cols.source)}::text[], ${sql.param(cols.ext)}::text[], ${sql.param(cols.hash)}::text[],
        ${sql.param(cols.client)}::text[], ${sql.param(cols.worker)}::text[], ${sql.param(cols.date)}::date[],
        ${sql.param(cols.start)}::timestamptz[], ${sql.param(cols.end)}::timestamptz[], ${sql.param(cols.dur)}::int[],
        ${sql.param(cols.brk)}::int[], ${sql.param(cols.billable)}::bool[], ${sql.param(cols.approved)}::bool[],
        ${sql.param(cols.billed)}::bool[], ${sql.param(cols.data)}::text[]
      ) AS t(source_id, external_id, content_hash, client_id, worker, work_date, start_at, end_at,
             duration_seconds, break_seconds, billable, approved, billed_at_source, data)`;
  const statement = sql`
    WITH input AS (${input}),
    up AS (
      INSERT INTO time_entries AS te (source_id, external_id, content_hash, client_id, worker, work_date, start_at,
        end_at, duration_seconds, break_seconds, billable, approved, billed_at_source, data, last_seen_run)
      SELECT source_id, external_id, content_hash, client_id, worker, work_date::date, start_at::timestamptz, end_at::timestamptz,
        duration_seconds::int, break_seconds::int, billable::bool, approved::bool, billed_at_source::bool, data::jsonb, ${runId} FROM input
      ON CONFLICT (source_id, external_id) DO UPDATE SET
        last_seen_run = EXCLUDED.last_seen_run,
        revision = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN te.revision + 1 ELSE te.revision END,
        status = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN 'new' ELSE te.status END,
        rated_with = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN NULL ELSE te.rated_with END,
        -- updated_at moves only on a real change: RETURNING reads it back to count changes.
        updated_at = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN now() ELSE te.updated_at END,
        content_hash = EXCLUDED.content_hash, client_id = EXCLUDED.client_id, worker = EXCLUDED.worker,
        work_date = EXCLUDED.work_date, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,
        duration_seconds = EXCLUDED.duration_seconds, break_seconds = EXCLUDED.break_seconds,
        billable = EXCLUDED.billable, approved = EXCLUDED.approved, billed_at_source = EXCLUDED.billed_at_source,
        data = EXCLUDED.data,
        deleted_at = NULL
      RETURNING (xmax = 0) AS inserted, (updated_at = now()) AS touched
    )
    SELECT
      count(*) FILTER (WHERE inserted)::int AS inserted,
      count(*) FILTER (WHERE NOT inserted AND touched)::int AS updated,
      count(*) FILTER (WHERE NOT inserted AND NOT touched)::int AS unchanged
    FROM up`;
  const rows =
    ledger.copyThen && k >= COPY_THRESHOLD
      ? await ledger.copyThen<UpsertRow>(STAGE, copyChunks(cols, k), statement)
      : await ledger.rows<UpsertRow>(statement);
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
