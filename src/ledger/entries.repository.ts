import { hash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { TimeEntry } from '../domain/time-entry';
import { isUniqueViolation, type BulkSession, type Ledger } from './db';
import { CopyWriter } from './copy-text';
import { jsonRows } from './json-rows';
import { markEntriesChanged } from './assembly-marks.repository';

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
  'sourceId',
  'externalId',
  'worker',
  'client',
  'clientId',
  'project',
  'task',
  'role',
  'tags',
  'date',
  'start',
  'end',
  'durationSeconds',
  'breakSeconds',
  'timeZone',
  'billable',
  'approved',
  'billedAtSource',
  'notes',
  'sourceRate',
  'sourceCurrency',
  'costRate',
  'extras',
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
/** The columns an upsert writes, in COPY order (the stage table has them all as text). */
const COLUMNS = [
  'source_id',
  'external_id',
  'content_hash',
  'snapshot_hash',
  'client_id',
  'worker',
  'work_date',
  'start_at',
  'end_at',
  'duration_seconds',
  'break_seconds',
  'billable',
  'approved',
  'billed_at_source',
  'data',
] as const;
const STAGE = 'hb_stage_entries';

/** A page's entries as column arrays, one slot per distinct (source, external id). */
interface Columns {
  source: string[];
  ext: string[];
  hash: string[];
  snapshot: string[];
  client: Array<string | null>;
  worker: string[];
  date: string[];
  start: Array<string | null>;
  end: Array<string | null>;
  dur: number[];
  brk: number[];
  billable: boolean[];
  approved: Array<boolean | null>;
  billed: boolean[];
  entries: TimeEntry[];
}

const everyIndex = (list: readonly unknown[]): number[] => Array.from(list, (_, i) => i);

/** The distinct entries of a page: if a page repeats a key the last one wins (a key must not reach a statement twice). */
function distinctEntries(entries: TimeEntry[]): TimeEntry[] {
  const at = new Map<string, number>();
  const out: TimeEntry[] = [];
  for (const e of entries) {
    const key = `${e.sourceId}\u0000${e.externalId}`;
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(e);
    } else out[i] = e;
  }
  return out;
}

/** Entries `at` of `page` as column arrays, for the unnest input of small pages. */
function columnsOf(page: TimeEntry[], at: number[]): Columns {
  const n = at.length;
  const cols: Columns = {
    source: new Array<string>(n),
    ext: new Array<string>(n),
    hash: new Array<string>(n),
    snapshot: new Array<string>(n),
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
    entries: new Array<TimeEntry>(n),
  };
  for (let i = 0; i < n; i++) {
    const e = page[at[i]!]!;
    cols.source[i] = e.sourceId;
    cols.ext[i] = e.externalId;
    cols.hash[i] = entryContentHash(e);
    cols.snapshot[i] = snapshotHash(e);
    cols.client[i] = e.clientId ?? null;
    cols.worker[i] = e.worker.name;
    cols.date[i] = e.date;
    cols.start[i] = e.start ?? null;
    cols.end[i] = e.end ?? null;
    cols.dur[i] = e.durationSeconds;
    cols.brk[i] = e.breakSeconds;
    cols.billable[i] = e.billable;
    cols.approved[i] = e.approved;
    cols.billed[i] = e.billedAtSource;
    cols.entries[i] = e;
  }
  return cols;
}

/**
 * The stored JSON of an entry and its hash: the snapshot an unchanged re-read is recognised by.
 * Provenance is included, unlike the content hash, so a row that merely moved is written once
 * to record where it is now; only `provenance.fetchedAt` is left out, as it differs on every
 * read (the stored one is then the time of the read that stored this snapshot). It is the
 * provenance's own key, and provenance is the last field the schema writes, so its last
 * occurrence in the JSON is that one (a quote inside a string value is escaped, so a value can
 * never contain `"fetchedAt":"`). Memoised per entry object: the hash, the COPY text and the
 * unnest input of a page all need the same serialisation.
 */
const stored = new WeakMap<TimeEntry, { json: string; hash: string }>();
const FETCHED_AT = '"fetchedAt":"';
function storedForm(e: TimeEntry): { json: string; hash: string } {
  let s = stored.get(e);
  if (!s) {
    const json = JSON.stringify(e);
    const at = json.lastIndexOf(FETCHED_AT);
    const stable = at < 0 ? json : json.slice(0, at) + json.slice(json.indexOf('"', at + FETCHED_AT.length) + 1);
    s = { json, hash: hash('sha256', stable, 'base64url').slice(0, 32) };
    stored.set(e, s);
  }
  return s;
}
export function snapshotHash(e: TimeEntry): string {
  return storedForm(e).hash;
}

/**
 * Entries `at` of `page` as COPY text in the order of COLUMNS, yielded a 64 KB piece at a time
 * as rows are hashed and serialised (see copy-text.ts), so the server loads one piece while the
 * next is written.
 */
function* copyRows(page: TimeEntry[], at: ArrayLike<number>): Generator<Buffer> {
  const w = new CopyWriter();
  for (let j = 0; j < at.length; j++) {
    const e = page[at[j]!]!;
    const form = storedForm(e);
    w.text(e.sourceId);
    w.text(e.externalId);
    w.text(entryContentHash(e));
    w.text(form.hash);
    w.text(e.clientId);
    w.text(e.worker.name);
    w.text(e.date);
    w.text(e.start);
    w.text(e.end);
    w.value(e.durationSeconds);
    w.value(e.breakSeconds);
    w.value(e.billable);
    w.value(e.approved);
    w.value(e.billedAtSource);
    w.text(form.json, true);
    if (w.hasFull) yield* w.takeFull();
  }
  yield* w.take();
}

/** Column arrays unnested server-side into the rows of COLUMNS; the entries' JSON as one document (see jsonRows). */
function unnestInput(cols: Columns): SQL {
  return sql`
      SELECT ${sql.raw(
        COLUMNS.filter((c) => c !== 'data')
          .map((c) => `t.${c}`)
          .join(', '),
      )}, d.data
      FROM unnest(
        ${sql.param(cols.source)}::text[], ${sql.param(cols.ext)}::text[], ${sql.param(cols.hash)}::text[],
        ${sql.param(cols.snapshot)}::text[],
        ${sql.param(cols.client)}::text[], ${sql.param(cols.worker)}::text[], ${sql.param(cols.date)}::date[],
        ${sql.param(cols.start)}::timestamptz[], ${sql.param(cols.end)}::timestamptz[], ${sql.param(cols.dur)}::int[],
        ${sql.param(cols.brk)}::int[], ${sql.param(cols.billable)}::bool[], ${sql.param(cols.approved)}::bool[],
        ${sql.param(cols.billed)}::bool[]
      ) WITH ORDINALITY AS t(${sql.raw(COLUMNS.filter((c) => c !== 'data').join(', '))}, n)
      JOIN ${jsonRows(cols.entries)} AS d(data, n) USING (n)`;
}

/**
 * The conflict-aware upsert of rows read from `input`: new keys are inserted at revision 1; a
 * changed hash (or a deleted entry that came back) bumps the revision and sends the entry back
 * to `new` for re-pricing. A row whose stored snapshot is the same is not written at all (the
 * WHERE of DO UPDATE), so an unchanged re-read writes nothing; it is counted as unchanged.
 */
function upsertStatement(input: SQL): SQL {
  return sql`
    WITH input AS (${input}),
    up AS (
      INSERT INTO time_entries AS te (source_id, external_id, content_hash, snapshot_hash, client_id, worker, work_date, start_at,
        end_at, duration_seconds, break_seconds, billable, approved, billed_at_source, data)
      SELECT source_id, external_id, content_hash, snapshot_hash, client_id, worker, work_date::date, start_at::timestamptz,
        end_at::timestamptz, duration_seconds::int, break_seconds::int, billable::bool, approved::bool, billed_at_source::bool,
        data::jsonb FROM input
      ON CONFLICT (source_id, external_id) DO UPDATE SET
        revision = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN te.revision + 1 ELSE te.revision END,
        status = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN 'new' ELSE te.status END,
        rated_with = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN NULL ELSE te.rated_with END,
        -- updated_at moves only on a real change: RETURNING reads it back to count changes.
        updated_at = CASE WHEN te.content_hash <> EXCLUDED.content_hash OR te.deleted_at IS NOT NULL THEN now() ELSE te.updated_at END,
        content_hash = EXCLUDED.content_hash, snapshot_hash = EXCLUDED.snapshot_hash, client_id = EXCLUDED.client_id,
        worker = EXCLUDED.worker, work_date = EXCLUDED.work_date, start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at,
        duration_seconds = EXCLUDED.duration_seconds, break_seconds = EXCLUDED.break_seconds,
        billable = EXCLUDED.billable, approved = EXCLUDED.approved, billed_at_source = EXCLUDED.billed_at_source,
        data = EXCLUDED.data,
        deleted_at = NULL
      WHERE te.snapshot_hash IS DISTINCT FROM EXCLUDED.snapshot_hash OR te.deleted_at IS NOT NULL
      RETURNING (xmax = 0) AS inserted, (updated_at = now()) AS touched
    )
    SELECT
      count(*) FILTER (WHERE inserted)::int AS inserted,
      count(*) FILTER (WHERE NOT inserted AND touched)::int AS updated
    FROM up`;
}

/** Counts of one upsert statement over `n` rows: the rows it did not return were left as they are. */
function counted(r: { inserted: number; updated: number }, n: number): UpsertRow {
  return { inserted: r.inserted, updated: r.updated, unchanged: n - r.inserted - r.updated };
}

/** The conflict-aware upsert of entries `at` of `page` in a bulk session: through a COPY-filled stage table when there are many. */
async function upsertInSession(s: BulkSession, page: TimeEntry[], at: number[]): Promise<UpsertRow> {
  if (at.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  if (at.length < COPY_THRESHOLD)
    return counted((await s.rows<UpsertRow>(upsertStatement(unnestInput(columnsOf(page, at)))))[0]!, at.length);
  await s.rows(sql.raw(`CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (${COLUMNS.map((c) => `${c} text`).join(', ')}) ON COMMIT DELETE ROWS`));
  await s.copyIn(STAGE, COLUMNS, copyRows(page, at));
  return counted((await s.rows<UpsertRow>(upsertStatement(sql.raw(`SELECT * FROM ${STAGE}`))))[0]!, at.length);
}

/**
 * Which of the page's keys the ledger holds, and which of those it holds exactly as they are
 * now (same snapshot, not deleted): those need no write at all.
 */
async function probeKeys(
  q: Pick<Ledger, 'rows'> | BulkSession,
  page: TimeEntry[],
): Promise<{ held: Uint8Array; same: Uint8Array; sameCount: number }> {
  const held = new Uint8Array(page.length);
  const same = new Uint8Array(page.length);
  const rows = await q.rows<{ i: number; same: boolean }>(sql`
    SELECT k.i::int - 1 AS i, (te.snapshot_hash = k.snapshot_hash AND te.deleted_at IS NULL) AS same
    FROM unnest(${sql.param(page.map((e) => e.sourceId))}::text[], ${sql.param(page.map((e) => e.externalId))}::text[],
      ${sql.param(page.map(snapshotHash))}::text[]) WITH ORDINALITY AS k(source_id, external_id, snapshot_hash, i)
    JOIN time_entries te ON te.source_id = k.source_id AND te.external_id = k.external_id`);
  let sameCount = 0;
  for (const r of rows) {
    held[r.i] = 1;
    if (r.same) {
      same[r.i] = 1;
      sameCount++;
    }
  }
  return { held, same, sameCount };
}

/**
 * A large page on a server: keys the ledger does not hold are COPYed straight into
 * time_entries (no stage table, no executor per row, heap pages written in batches, no
 * speculative insertion: server time for 300,000 rows in batches of 2,000 here 9.4 s, against
 * 11.3 s through a stage table and INSERT … ON CONFLICT), hashed and serialised while the server
 * loads what was sent before; keys it holds with another snapshot go through the conflict-aware
 * statement, and keys it holds as they are are not sent again.
 *
 * With `probe`, one query finds the held keys first. Without it (a first import, rows appended
 * to a sheet) every key is taken as new: if the ledger holds one after all, or another writer
 * inserts one between the probe and the COPY, the unique index rejects the COPY and the caller
 * redoes the page on the next path. Correctness never depends on guessing right, only speed.
 * Resolves with how many keys the ledger held.
 */
function compareForStorage(a: TimeEntry, b: TimeEntry): number {
  const ca = a.clientId ?? '';
  const cb = b.clientId ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  if (a.worker.name !== b.worker.name) return a.worker.name < b.worker.name ? -1 : 1;
  return a.date < b.date ? -1 : a.date > b.date ? 1 : 0;
}

async function upsertByCopy(s: BulkSession, page: TimeEntry[], probe: boolean): Promise<UpsertRow & { held: number }> {
  const known = probe ? await probeKeys(s, page) : null;
  const fresh: number[] = [];
  const changed: number[] = [];
  for (let i = 0; i < page.length; i++) {
    if (!known?.held[i]) fresh.push(i);
    else if (!known.same[i]) changed.push(i);
  }
  // New rows go in (client, worker, date) order: sources list by date across clients, and the
  // stages read a client's entries together (assembly) and a worker's in date order (pricing),
  // so rows that are read together then share table pages.
  fresh.sort((a, b) => compareForStorage(page[a]!, page[b]!));
  const inserted = fresh.length > 0 ? await s.copyIn('time_entries', COLUMNS, copyRows(page, fresh)) : 0;
  const rest = await upsertInSession(s, page, changed);
  const sameCount = known?.sameCount ?? 0;
  return {
    inserted: inserted + rest.inserted,
    updated: rest.updated,
    unchanged: rest.unchanged + sameCount,
    held: changed.length + sameCount,
  };
}

/**
 * Per ledger, the sources whose last large page held known keys: their next page is probed
 * first rather than COPYed optimistically (a re-sync of an unchanged sheet would otherwise
 * fail one COPY per page). A page that turns out all new clears the mark.
 */
const knownKeysSeen = new WeakMap<Ledger, Set<string>>();

export interface UpsertCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/**
 * The keys a pull has read, per source: what a snapshot source's reconciliation compares the
 * ledger with to find entries deleted at source. Kept by the pull in memory (a key is a few
 * dozen bytes: 1M entries fit in well under 100 MB) instead of stamping every seen row with the
 * run, which rewrote every entry of the ledger on every run.
 */
export class SeenKeys {
  private readonly bySource = new Map<string, Set<string>>();
  add(entries: readonly TimeEntry[]): void {
    for (const e of entries) this.keysOf(e.sourceId).add(e.externalId);
  }
  addKeys(sourceId: string, externalIds: readonly string[]): void {
    const set = this.keysOf(sourceId);
    for (const id of externalIds) set.add(id);
  }
  private keysOf(sourceId: string): Set<string> {
    let set = this.bySource.get(sourceId);
    if (!set) {
      set = new Set();
      this.bySource.set(sourceId, set);
    }
    return set;
  }
  of(sourceId: string): string[] {
    return [...(this.bySource.get(sourceId) ?? [])];
  }
}

/**
 * Set-based upsert of one page of entries: new keys are inserted at revision 1; a changed hash
 * (or a deleted entry that came back) bumps the revision and sends the entry back to `new` for
 * re-pricing; a key held exactly as it is now is not written. Every key is added to `seen`,
 * which is how snapshot sources detect deletions (markDeleted). On a server, large pages use
 * COPY (see upsertLarge); otherwise the held-as-is keys are probed and the rest go through one
 * statement with the page's columns as arrays.
 */
export async function upsertEntries(ledger: Ledger, entries: TimeEntry[], seen?: SeenKeys): Promise<UpsertCounts> {
  seen?.add(entries);
  if (entries.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const page = distinctEntries(entries);
  const repeated = entries.length - page.length;
  let r: UpsertRow;
  if (ledger.bulk && page.length >= COPY_THRESHOLD) r = await upsertLarge(ledger, ledger.bulk.bind(ledger), page);
  else {
    const known = await probeKeys(ledger, page);
    const send = everyIndex(page).filter((i) => !known.same[i]);
    r =
      send.length === 0
        ? { inserted: 0, updated: 0, unchanged: 0 }
        : counted((await ledger.rows<UpsertRow>(upsertStatement(unnestInput(columnsOf(page, send)))))[0]!, send.length);
    r = { ...r, unchanged: r.unchanged + known.sameCount };
  }
  return { inserted: r.inserted, updated: r.updated, unchanged: r.unchanged + repeated };
}

/** A large page on a server: all-new COPY, probed COPY, or conflict-aware, each falling back to the next on a unique violation. */
async function upsertLarge(ledger: Ledger, bulk: NonNullable<Ledger['bulk']>, page: TimeEntry[]): Promise<UpsertRow> {
  let seen = knownKeysSeen.get(ledger);
  if (!seen) {
    seen = new Set();
    knownKeysSeen.set(ledger, seen);
  }
  const sources = [...new Set(page.map((e) => e.sourceId))];
  const fallback = (err: unknown) => {
    if (!isUniqueViolation(err)) throw err;
  };
  if (!sources.some((id) => seen.has(id))) {
    try {
      return await bulk((s) => upsertByCopy(s, page, false));
    } catch (err) {
      fallback(err);
    }
  }
  try {
    const r = await bulk((s) => upsertByCopy(s, page, true));
    for (const id of sources) {
      if (r.held > 0) seen.add(id);
      else seen.delete(id);
    }
    return r;
  } catch (err) {
    // Another writer inserted one of the keys after the probe.
    fallback(err);
  }
  for (const id of sources) seen.add(id);
  return bulk((s) => upsertInSession(s, page, everyIndex(page)));
}

/**
 * Mark entries deleted at source: those of `sourceId` not in `seen` whose work date lies in
 * [from, to] (null = unbounded), plus explicitly reported ids. Returns how many changed.
 */
export async function markDeleted(
  ledger: Ledger,
  sourceId: string,
  seen: SeenKeys,
  range: { from: string | null; to: string | null } | null,
  externalIds: string[] = [],
): Promise<number> {
  let count = 0;
  if (range) {
    // NOT IN over the unnested list is a hashed subplan: one pass over the source's entries.
    const rows = await ledger.rows<{ id: number }>(sql`
      WITH d AS (
        UPDATE time_entries SET status = 'deleted', deleted_at = now(), revision = revision + 1, updated_at = now(), rated_with = NULL
        WHERE source_id = ${sourceId} AND deleted_at IS NULL
          AND external_id NOT IN (SELECT unnest(${sql.param(seen.of(sourceId))}::text[]))
          AND (${range.from}::date IS NULL OR work_date >= ${range.from}::date)
          AND (${range.to}::date IS NULL OR work_date <= ${range.to}::date)
        RETURNING id::int AS id)
      SELECT id FROM d`);
    await markEntriesChanged(
      ledger,
      rows.map((r) => r.id),
    );
    count += rows.length;
  }
  if (externalIds.length > 0) {
    const rows = await ledger.rows<{ id: number }>(sql`
      WITH d AS (
        UPDATE time_entries SET status = 'deleted', deleted_at = now(), revision = revision + 1, updated_at = now(), rated_with = NULL
        WHERE source_id = ${sourceId} AND deleted_at IS NULL AND external_id = ANY(${sql.param(externalIds)}::text[])
        RETURNING id::int AS id)
      SELECT id FROM d`);
    await markEntriesChanged(
      ledger,
      rows.map((r) => r.id),
    );
    count += rows.length;
  }
  return count;
}

export interface StoredEntry {
  id: number;
  revision: number;
  status: string;
  /** Why an excluded or unpriced entry is not invoiced. */
  statusReason: string | null;
  entry: TimeEntry;
}

/** One entry by its key, or undefined. */
export async function findEntry(ledger: Ledger, sourceId: string, externalId: string): Promise<StoredEntry | undefined> {
  const rows = await ledger.rows<{ id: number; revision: number; status: string; reason: string | null; data: TimeEntry }>(sql`
    SELECT id::int AS id, revision, status, status_reason AS reason, data FROM time_entries WHERE source_id = ${sourceId} AND external_id = ${externalId}`);
  const r = rows[0];
  return r ? { id: r.id, revision: r.revision, status: r.status, statusReason: r.reason, entry: r.data } : undefined;
}
