import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Ledger } from '../../../src/ledger/db';

export interface InvoiceFact {
  key: string;
  status: string;
  total: string;
  hours: string;
  lines: Array<{ description: string; quantity: string; unitPrice: string; amount: string }>;
  entries: string[];
}

/** Every live invoice with its lines and the entries it bills, in a comparable form. */
export async function invoiceFacts(ledger: Ledger): Promise<InvoiceFact[]> {
  const rows = await ledger.rows<InvoiceFact>(sql`
    SELECT i.key, i.status, i.draft->>'total' AS total, i.draft->>'hours' AS hours,
      COALESCE((SELECT json_agg(json_build_object('description', l.description, 'quantity', l.quantity::text, 'unitPrice', l.unit_price::text, 'amount', l.amount::text) ORDER BY l.position)
        FROM invoice_lines l WHERE l.invoice_id = i.id), '[]'::json) AS lines,
      COALESCE((SELECT json_agg(te.source_id || ':' || te.external_id ORDER BY te.source_id, te.external_id)
        FROM invoice_entries ie JOIN time_entries te ON te.id = ie.entry_id WHERE ie.invoice_id = i.id AND ie.live), '[]'::json) AS entries
    FROM invoices i WHERE i.live ORDER BY i.key`);
  return rows;
}

/** Invariant 2, checked on the ledger: entries on more than one live invoice (must be none). */
export async function entriesOnTwoInvoices(ledger: Ledger): Promise<number> {
  const rows = await ledger.rows<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM (SELECT entry_id FROM invoice_entries WHERE live GROUP BY entry_id HAVING count(*) > 1) x`);
  return rows[0]!.n;
}

/** Billable, priced entries that are on no live invoice (must be none after a complete run). */
export async function ratedEntriesNotInvoiced(ledger: Ledger): Promise<number> {
  const rows = await ledger.rows<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM time_entries te
    WHERE te.deleted_at IS NULL AND te.status IN ('rated','drafted')
      AND NOT EXISTS (SELECT 1 FROM invoice_entries ie WHERE ie.entry_id = te.id AND ie.live)`);
  return rows[0]!.n;
}

/** The file destination's output: key → parsed document. */
export async function outputFiles(dir: string): Promise<Map<string, { key: string; net: string; lines: unknown[] }>> {
  const out = new Map<string, { key: string; net: string; lines: unknown[] }>();
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const doc = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { key: string; net: string; lines: unknown[] };
    out.set(doc.key, doc);
  }
  return out;
}
