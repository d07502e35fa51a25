import { sql } from 'drizzle-orm';
import type { InvoiceDraft } from '../domain/invoice';
import type { Ledger } from '../ledger/db';
import { findInvoice } from '../ledger/invoices.repository';

export interface InvoiceLineRow {
  position: number;
  lineKey: string;
  description: string;
  quantity: string;
  unitPrice: string;
  net: string;
  /** `sourceId:externalId` of the entries the line bills (from the draft). */
  entries: string[];
}

export interface InvoiceEntryRow {
  key: string;
  revision: number;
  status: string;
  date: string;
  worker: string;
  project: string | null;
  lines: unknown;
  credit: unknown;
}

/** One step of an invoice's history: its creation, each write to the destination, status changes, corrections. */
export interface InvoiceHistoryRow {
  at: string;
  what: string;
  detail: string | null;
}

export interface InvoiceDetail {
  key: string;
  client: string;
  destination: string;
  period: string;
  status: string;
  remoteId: string | null;
  remoteStatus: string | null;
  remoteType: string | null;
  currency: string;
  workedHours: string;
  billedHours: string;
  /** Net of tax: the sum of the net line amounts. */
  net: string;
  /** Tax and gross as the destination computed them after the last write (null where it does not compute tax). */
  remoteTax: string | null;
  remoteGross: string | null;
  error: string | null;
  /** Whether the destination has the draft as assembled (false: a write is pending). */
  written: boolean;
  lines: InvoiceLineRow[];
  entries: InvoiceEntryRow[];
  /** Other invoices of the same client, period and destination: earlier ones this corrects, later corrections. */
  related: Array<{ key: string; sequence: number; status: string; net: string; live: boolean }>;
  history: InvoiceHistoryRow[];
  draft: InvoiceDraft;
}

/** The invoice page's and `GET /invoices/:key`'s one reading of an invoice. */
export async function invoiceDetail(ledger: Ledger, key: string): Promise<InvoiceDetail | undefined> {
  const invoice = await findInvoice(ledger, key);
  if (!invoice) return undefined;
  const [extra] = await ledger.rows<{
    remoteType: string | null;
    remoteTax: string | null;
    remoteGross: string | null;
    error: string | null;
    createdAt: string;
    updatedAt: string;
    written: boolean;
  }>(sql`
    SELECT remote_type AS "remoteType", round(remote_tax, 2)::text AS "remoteTax", round(remote_gross, 2)::text AS "remoteGross",
      last_error AS error, to_json(created_at)#>>'{}' AS "createdAt", to_json(updated_at)#>>'{}' AS "updatedAt", content_hash IS NOT DISTINCT FROM pushed_hash AS written
    FROM invoices WHERE id = ${invoice.id}`);
  const rows = await ledger.rows<Omit<InvoiceLineRow, 'entries'>>(sql`
    SELECT position, line_key AS "lineKey", description, quantity::text AS quantity, unit_price::text AS "unitPrice", amount::text AS net
    FROM invoice_lines WHERE invoice_id = ${invoice.id} ORDER BY position`);
  // Quantities, prices and amounts as the draft writes them (the ledger's numeric columns carry six decimals).
  const byLineKey = new Map(invoice.draft.lines.map((l) => [l.lineKey, l]));
  const lines = rows.map((l) => {
    const d = byLineKey.get(l.lineKey);
    return d ? { ...l, quantity: d.quantity, unitPrice: d.unitPrice, net: d.amount, entries: d.entryIds } : { ...l, entries: [] };
  });
  const entries = await ledger.rows<InvoiceEntryRow>(sql`
    SELECT te.source_id || ':' || te.external_id AS key, ie.entry_revision AS revision, te.status, te.work_date::text AS date,
      te.worker, te.data->>'project' AS project, ie.lines, ie.credit
    FROM invoice_entries ie JOIN time_entries te ON te.id = ie.entry_id
    WHERE ie.invoice_id = ${invoice.id} AND ie.live ORDER BY te.work_date, te.source_id, te.external_id`);
  const related = await ledger.rows<InvoiceDetail['related'][number]>(sql`
    SELECT key, sequence, status, round(total, 2)::text AS net, live FROM invoices
    WHERE client_id = ${invoice.clientId} AND destination_id = ${invoice.destinationId} AND period_label = ${invoice.periodLabel} AND key <> ${key}
    ORDER BY sequence`);
  // Events name the invoice key as subject, or list it among the keys of a failed write.
  const events = await ledger.rows<{ at: string; kind: string; data: unknown }>(sql`
    SELECT to_json(at)#>>'{}' AS at, kind, data FROM events
    WHERE subject = ${key} OR (kind = 'push.failed' AND data->'keys' ? ${key}) ORDER BY at, id`);
  const history: InvoiceHistoryRow[] = [
    { at: extra!.createdAt, what: 'assembled', detail: `sequence ${invoice.sequence}` },
    ...events.map((e) => ({ at: e.at, what: e.kind, detail: detailOf(e.data) })),
    ...(extra!.updatedAt !== extra!.createdAt
      ? [
          {
            at: extra!.updatedAt,
            what: 'last change',
            detail: `status ${invoice.status}${invoice.remoteStatus ? `, ${invoice.remoteStatus} at the destination` : ''}`,
          },
        ]
      : []),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return {
    key: invoice.key,
    client: invoice.clientId,
    destination: invoice.destinationId,
    period: invoice.periodLabel,
    status: invoice.status,
    remoteId: invoice.remoteId,
    remoteStatus: invoice.remoteStatus,
    remoteType: extra!.remoteType,
    currency: invoice.draft.currency,
    workedHours: invoice.draft.hours,
    billedHours: invoice.draft.billedHours ?? invoice.draft.hours,
    net: invoice.draft.total,
    remoteTax: extra!.remoteTax,
    remoteGross: extra!.remoteGross,
    error: extra!.error,
    written: extra!.written,
    lines,
    entries,
    related,
    history,
    draft: invoice.draft,
  };
}

function detailOf(data: unknown): string | null {
  if (data === null || data === undefined) return null;
  if (typeof data === 'object' && data !== null && 'message' in data) return String((data as { message: unknown }).message);
  return JSON.stringify(data);
}
