import { sql } from 'drizzle-orm';
import type { Queryable } from '../ledger/db';

/** Ledger reads of the live updates (the only SQL of src/live). */

/** Clients whose assembly marker moved since their last assembly (or that were never assembled). */
export async function dirtyClients(q: Queryable, clientIds: readonly string[]): Promise<string[]> {
  if (clientIds.length === 0) return [];
  const rows = await q.rows<{ c: string }>(sql`
    SELECT client_id AS c FROM assembly_marks
    WHERE client_id = ANY(${sql.param([...clientIds])}::text[]) AND assembled_version IS DISTINCT FROM version
    ORDER BY client_id`);
  return rows.map((r) => r.c);
}

/** Keys of one client's invoices waiting to be written (the push stage's work list, for that client). */
export async function clientPendingKeys(q: Queryable, clientId: string): Promise<string[]> {
  const rows = await q.rows<{ key: string }>(sql`
    SELECT key FROM invoices
    WHERE client_id = ${clientId} AND live AND status IN ('draft','failed') AND content_hash IS DISTINCT FROM pushed_hash
    ORDER BY key`);
  return rows.map((r) => r.key);
}

/** Work dates of entries the ledger holds, by external id (a deletion event may not say when the entry was). */
export async function entryDates(q: Queryable, sourceId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
  if (externalIds.length === 0) return new Map();
  const rows = await q.rows<{ id: string; d: string }>(sql`
    SELECT external_id AS id, work_date::text AS d FROM time_entries
    WHERE source_id = ${sourceId} AND external_id = ANY(${sql.param([...externalIds])}::text[])`);
  return new Map(rows.map((r) => [r.id, r.d]));
}
