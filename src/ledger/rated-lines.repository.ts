import { sql } from 'drizzle-orm';
import type { RatedLine } from '../domain/rated-line';
import type { TimeEntry } from '../domain/time-entry';
import type { Ledger } from './db';
import { jsonRows } from './json-rows';
import { markEntriesChanged } from './assembly-marks.repository';

export interface EntryRow {
  id: number;
  revision: number;
  status: string;
  entry: TimeEntry;
}

/** Position in the (client, worker, date, id) order stale entries are priced in. */
export interface StaleCursor {
  clientId: string;
  worker: string;
  date: string;
  id: number;
}

/**
 * Entries whose prices are stale: never priced, changed since, or priced with other rules —
 * except those billed on an approved invoice (their price is history) and deleted ones.
 * Keyset-paged, so a million entries never sit in memory at once. `grouped`: in (client,
 * worker, date) order, so a chunk covers few workers over contiguous dates and their overtime
 * companions are few. `id`: in the table's own order, for rules that price every entry on its
 * own — the rows of a chunk then share pages, where the grouped order visits a page per row.
 */
export async function stalePricedEntries(
  ledger: Ledger,
  rulesHash: string,
  after: StaleCursor | null,
  limit: number,
  order: 'grouped' | 'id' = 'grouped',
): Promise<Array<EntryRow & { cursor: StaleCursor }>> {
  const keyset =
    order === 'id'
      ? sql`${after ? sql`AND id > ${after.id}` : sql``} ORDER BY id`
      : sql`${after ? sql`AND (COALESCE(client_id, ''), worker, work_date, id) > (${after.clientId}, ${after.worker}, ${after.date}::date, ${after.id})` : sql``}
        ORDER BY COALESCE(client_id, ''), worker, work_date, id`;
  const rows = await ledger.rows<EntryRow & { clientId: string; worker: string; workDate: string }>(sql`
    SELECT id::int AS id, revision, status, data AS entry, COALESCE(client_id, '') AS "clientId", worker, work_date::text AS "workDate"
    FROM time_entries
    WHERE deleted_at IS NULL AND status <> 'billed' AND rated_with IS DISTINCT FROM ${rulesHash}
      ${keyset} LIMIT ${limit}`);
  return rows.map(({ clientId, worker, workDate, ...row }) => ({ ...row, cursor: { clientId, worker, date: workDate, id: row.id } }));
}

/** Entries of the same client and worker in a date window: the context overtime needs. */
export async function companions(
  ledger: Ledger,
  keys: Array<{ clientId: string; worker: string; from: string; to: string }>,
): Promise<EntryRow[]> {
  if (keys.length === 0) return [];
  return ledger.rows<EntryRow>(sql`
    SELECT te.id::int AS id, te.revision, te.status, te.data AS entry
    FROM time_entries te
    JOIN unnest(${sql.param(keys.map((k) => k.clientId))}::text[], ${sql.param(keys.map((k) => k.worker))}::text[],
                ${sql.param(keys.map((k) => k.from))}::date[], ${sql.param(keys.map((k) => k.to))}::date[]) AS k(client_id, worker, d_from, d_to)
      ON COALESCE(te.client_id, '') = k.client_id AND te.worker = k.worker AND te.work_date BETWEEN k.d_from AND k.d_to
    WHERE te.deleted_at IS NULL`);
}

export interface PricedEntry {
  id: number;
  revision: number;
  status: 'rated' | 'excluded' | 'unpriced';
  reason: string | null;
  lines: RatedLine[];
}

/** Replace the rated lines of priced entries and stamp them with the rules hash, set-based. */
export async function savePricing(ledger: Ledger, priced: PricedEntry[], rulesHash: string): Promise<void> {
  if (priced.length === 0) return;
  const ids = priced.map((p) => p.id);
  await ledger.rows(sql`DELETE FROM rated_lines WHERE entry_id = ANY(${sql.param(ids)}::bigint[])`);
  const lines = priced.flatMap((p) => p.lines.map((l) => ({ p, l })));
  if (lines.length > 0) {
    // Columns are read back out of each line (see jsonRows).
    await ledger.rows(sql`
      INSERT INTO rated_lines (entry_id, entry_revision, piece, kind, client_id, currency, work_date, quantity, unit_price, amount, rule, data)
      SELECT u.entry_id, u.entry_revision, (d.line->>'piece')::int, d.line->>'kind', d.line->>'clientId', d.line->>'currency',
        (d.line->>'date')::date, (d.line->>'quantity')::numeric, (d.line->>'unitPrice')::numeric, (d.line->>'amount')::numeric,
        d.line->>'rule', d.line
      FROM unnest(${sql.param(lines.map((x) => x.p.id))}::bigint[], ${sql.param(lines.map((x) => x.p.revision))}::int[])
        WITH ORDINALITY AS u(entry_id, entry_revision, n)
      JOIN ${jsonRows(lines.map((x) => x.l))} AS d(line, n) USING (n)`);
  }
  // An entry already on an open draft stays `drafted`: the assemble stage re-reads its new lines.
  await ledger.rows(sql`
    UPDATE time_entries te SET
      status = CASE WHEN te.status = 'drafted' AND u.status = 'rated' THEN 'drafted' ELSE u.status END,
      status_reason = u.reason, rated_with = ${rulesHash}
    FROM unnest(${sql.param(ids)}::bigint[], ${sql.param(priced.map((p) => p.status))}::text[], ${sql.param(priced.map((p) => p.reason))}::text[])
      AS u(id, status, reason)
    WHERE te.id = u.id`);
  await markEntriesChanged(ledger, ids);
}

/** The stale entries among `ids` (same rule as `stalePricedEntries`), by id. */
export async function staleEntriesByIds(ledger: Ledger, rulesHash: string, ids: number[]): Promise<EntryRow[]> {
  if (ids.length === 0) return [];
  return ledger.rows<EntryRow>(sql`
    SELECT id::int AS id, revision, status, data AS entry FROM time_entries
    WHERE id = ANY(${sql.param(ids)}::bigint[]) AND deleted_at IS NULL AND status <> 'billed' AND rated_with IS DISTINCT FROM ${rulesHash}
    ORDER BY id`);
}

/** Sorted, distinct "client\u0000worker" keys of these entries (the lock scope of the rate stage). */
export async function staleGroupKeys(ledger: Ledger, ids: number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await ledger.rows<{ k: string }>(sql`
    SELECT DISTINCT COALESCE(client_id, '') || ':' || worker AS k FROM time_entries
    WHERE id = ANY(${sql.param(ids)}::bigint[]) ORDER BY 1`);
  return rows.map((r) => r.k);
}

export interface StaleRef {
  id: number;
  group: string;
}

/**
 * Every stale entry id, ordered by (client, worker, date, id): the queue runner cuts this list
 * into batches, so a batch covers few overtime windows and companions stay within few batches.
 */
export async function staleEntryRefs(ledger: Ledger, rulesHash: string): Promise<StaleRef[]> {
  return ledger.rows<StaleRef>(sql`
    SELECT id::int AS id, COALESCE(client_id, '') || ':' || worker AS "group" FROM time_entries
    WHERE deleted_at IS NULL AND status <> 'billed' AND rated_with IS DISTINCT FROM ${rulesHash}
    ORDER BY client_id NULLS FIRST, worker, work_date, id`);
}
