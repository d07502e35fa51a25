import { sql } from 'drizzle-orm';
import type { Queryable } from './db';

/**
 * Change markers of assembly (table assembly_marks). Every writer of something a client's
 * assembly reads bumps that client's version in the same transaction as its change, after it
 * (so the row lock is held only until that commit): the rate stage for the entries it priced,
 * reconciliation for the entries it deleted, a status from the destination for its invoice,
 * and assembly itself for the clients of entries it released. Entries are marked for their
 * current client and for every client whose invoices link them live, which is how a move from
 * one client to another marks both.
 */

/** Bump the markers of these clients. Sorted, so two writers lock the same rows in the same order. */
export async function markClients(q: Queryable, clientIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(clientIds)].sort();
  if (ids.length === 0) return;
  await q.rows(sql`
    INSERT INTO assembly_marks AS m (client_id) SELECT unnest(${sql.param(ids)}::text[]) ORDER BY 1
    ON CONFLICT (client_id) DO UPDATE SET version = m.version + 1, updated_at = now()`);
}

/** Bump the markers of these entries' clients: their own, and those of invoices that bill them. */
export async function markEntriesChanged(q: Queryable, entryIds: readonly number[]): Promise<void> {
  if (entryIds.length === 0) return;
  const rows = await q.rows<{ c: string }>(sql`
    SELECT COALESCE(client_id, '') AS c FROM time_entries WHERE id = ANY(${sql.param([...entryIds])}::bigint[])
    UNION
    SELECT i.client_id FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id
    WHERE ie.live AND ie.entry_id = ANY(${sql.param([...entryIds])}::bigint[])`);
  await markClients(
    q,
    rows.map((r) => r.c),
  );
}

/** Bump the marker of the client an invoice belongs to. */
export async function markInvoiceClient(q: Queryable, invoiceId: number): Promise<void> {
  const rows = await q.rows<{ c: string }>(sql`SELECT client_id AS c FROM invoices WHERE id = ${invoiceId}`);
  await markClients(
    q,
    rows.map((r) => r.c),
  );
}

export interface AssemblyMark {
  version: number;
  assembledVersion: number | null;
  fingerprint: string | null;
}

export async function assemblyMark(q: Queryable, clientId: string): Promise<AssemblyMark | undefined> {
  const rows = await q.rows<AssemblyMark>(sql`
    SELECT version::int AS version, assembled_version::int AS "assembledVersion", fingerprint
    FROM assembly_marks WHERE client_id = ${clientId}`);
  return rows[0];
}

/**
 * After an assembly of the client that saw `version` (read before it began): a bump by a writer
 * that committed meanwhile leaves the version ahead, so the next assembly runs again.
 */
export async function recordAssembled(q: Queryable, clientId: string, version: number, fingerprint: string): Promise<void> {
  await q.rows(sql`
    INSERT INTO assembly_marks AS m (client_id, version, assembled_version, fingerprint) VALUES (${clientId}, ${version}, ${version}, ${fingerprint})
    ON CONFLICT (client_id) DO UPDATE SET assembled_version = ${version}, fingerprint = ${fingerprint}, updated_at = now()`);
}

/** How many open invoices the client has: what an assembly that had nothing to do reports as unchanged. */
export async function openInvoiceCount(q: Queryable, clientId: string): Promise<number> {
  const rows = await q.rows<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM invoices WHERE client_id = ${clientId} AND live AND status IN ('draft','pushed','failed')`);
  return rows[0]?.n ?? 0;
}
