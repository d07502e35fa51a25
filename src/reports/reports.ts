import { sql } from 'drizzle-orm';
import type { Queryable } from '../ledger/db';
import { dec, fixed } from '../domain/money';

export interface UnbilledRow {
  client: string;
  currency: string;
  /** Priced, not yet on any invoice. */
  undraftedHours: string;
  undraftedAmount: string;
  /** On open drafts that are not approved yet. */
  draftedHours: string;
  draftedAmount: string;
  hours: string;
  amount: string;
  entries: number;
  /** Kept but not invoiced: not billable, not approved, billed at source. */
  excluded: number;
  /** Cannot be priced: see the quarantine report. */
  unpriced: number;
}

/** Outstanding hours and amounts per client: everything accepted and billable that no approved invoice bills yet. */
export async function unbilledReport(q: Queryable, clientId?: string): Promise<UnbilledRow[]> {
  const rows = await q.rows<{
    client: string;
    currency: string | null;
    uh: string | null;
    ua: string | null;
    dh: string | null;
    da: string | null;
    entries: number;
    excluded: number;
    unpriced: number;
  }>(sql`
    SELECT te.client_id AS client, max(rl.currency) AS currency,
      sum(rl.quantity) FILTER (WHERE te.status = 'rated' AND rl.kind IN ('time','minimum'))::text AS uh,
      sum(rl.amount) FILTER (WHERE te.status = 'rated')::text AS ua,
      sum(rl.quantity) FILTER (WHERE te.status = 'drafted' AND rl.kind IN ('time','minimum'))::text AS dh,
      sum(rl.amount) FILTER (WHERE te.status = 'drafted')::text AS da,
      count(DISTINCT te.id) FILTER (WHERE te.status IN ('rated','drafted'))::int AS entries,
      count(DISTINCT te.id) FILTER (WHERE te.status = 'excluded')::int AS excluded,
      count(DISTINCT te.id) FILTER (WHERE te.status = 'unpriced')::int AS unpriced
    FROM time_entries te LEFT JOIN rated_lines rl ON rl.entry_id = te.id
    WHERE te.deleted_at IS NULL AND te.client_id IS NOT NULL
      -- Written on COALESCE(client_id, '') so the rate-order index serves it.
      ${clientId ? sql`AND COALESCE(te.client_id, '') = ${clientId}` : sql``}
    GROUP BY te.client_id ORDER BY te.client_id`);
  const n = (v: string | null) => v ?? '0';
  return rows.map((r) => ({
    client: r.client,
    currency: r.currency ?? '',
    undraftedHours: fixed(n(r.uh)),
    undraftedAmount: fixed(n(r.ua)),
    draftedHours: fixed(n(r.dh)),
    draftedAmount: fixed(n(r.da)),
    hours: fixed(dec(n(r.uh)).plus(n(r.dh))),
    amount: fixed(dec(n(r.ua)).plus(n(r.da))),
    entries: r.entries,
    excluded: r.excluded,
    unpriced: r.unpriced,
  }));
}

export interface InvoiceReportRow {
  key: string;
  client: string;
  period: string;
  currency: string;
  hours: string;
  total: string;
  status: string;
  remoteStatus: string | null;
  remoteId: string | null;
  /** Tax and tax-inclusive total as the destination computed them, read back after the last write (null where unknown). */
  remoteTax: string | null;
  remoteGross: string | null;
  error: string | null;
  updatedAt: string;
}

/**
 * Invoiced hours: every live invoice with its state — `pushed` drafts await approval in the
 * accounting system, `approved`/`paid` ones are billed — and any error from the destination.
 * `approvedOnly` limits it to billed ones.
 */
export async function invoicesReport(q: Queryable, filter: { clientId?: string; approvedOnly?: boolean } = {}): Promise<InvoiceReportRow[]> {
  return q.rows<InvoiceReportRow>(sql`
    SELECT key, client_id AS client, period_label AS period, currency, (draft->>'hours') AS hours, (draft->>'total') AS total,
      status, remote_status AS "remoteStatus", remote_id AS "remoteId",
      round(remote_tax, 2)::text AS "remoteTax", round(remote_gross, 2)::text AS "remoteGross",
      last_error AS error, updated_at::text AS "updatedAt"
    FROM invoices
    WHERE live ${filter.approvedOnly ? sql`AND status IN ('approved','paid')` : sql``}
      ${filter.clientId ? sql`AND client_id = ${filter.clientId}` : sql``}
    ORDER BY client_id, period_start, sequence`);
}

export interface QuarantineRow {
  source: string;
  file: string | null;
  row: number | null;
  column: string | null;
  field: string | null;
  reason: string;
  value: unknown;
  ref: string;
  since: string;
}

/** Every rejected input row (with where it is and why) and every accepted entry that cannot be priced. */
export async function quarantineReport(q: Queryable, sourceId?: string): Promise<QuarantineRow[]> {
  return q.rows<QuarantineRow>(sql`
    SELECT source_id AS source, file, row_number AS row, column_name AS column, field, reason, raw AS value,
      record_ref AS ref, first_seen_at::text AS since
    FROM quarantine WHERE resolved_at IS NULL ${sourceId ? sql`AND source_id = ${sourceId}` : sql``}
    UNION ALL
    SELECT source_id, data->'provenance'->>'file', (data->'provenance'->>'row')::int, NULL, 'rate', status_reason, NULL,
      external_id, updated_at::text
    FROM time_entries WHERE status = 'unpriced' AND deleted_at IS NULL ${sourceId ? sql`AND source_id = ${sourceId}` : sql``}
    ORDER BY 1, 3 NULLS LAST, 8`);
}
