import { sql } from 'drizzle-orm';
import type { ClientConfig } from '../config/client.schema';
import type { Ledger, Queryable } from '../ledger/db';
import { withRollback } from '../ledger/rollback';
import { dec, fixed, type Money } from '../domain/money';
import type { CompiledRates } from '../rates/contract';
import { assembleAll, assemblyFingerprint } from '../stages/assemble.stage';

/** Hours and money of one slice of the report. Money is net of tax, like every Hourbridge figure. */
export interface Figures {
  /** Worked hours (time lines). */
  workedHours: string;
  /** Worked hours plus call-out minimum shortfalls. */
  billedHours: string;
  /** Net amount: the sum of the invoices' net line amounts (tax is added by the accounting system). */
  net: string;
}

export interface UnbilledPeriod {
  period: string;
  start: string;
  end: string;
  /** The open draft of the period, or the key the next assembly gives its new invoice. */
  invoice: string;
  /** On the period's open draft now: exactly that draft's figures. */
  drafted: Figures;
  /** What the next assembly adds to (or takes off) that invoice: priced entries not on it yet, edits since. */
  notDrafted: Figures;
  /** drafted + notDrafted: the invoice's figures once assembled. */
  outstanding: Figures;
}

export interface UnbilledRow {
  client: string;
  currency: string;
  drafted: Figures;
  notDrafted: Figures;
  outstanding: Figures;
  periods: UnbilledPeriod[];
  /** Priced entries on a draft or waiting for one. */
  entries: number;
  /** Kept but not invoiced (non-billable, not approved, billed at source): `report excluded` lists them. */
  excluded: number;
  /** Cannot be priced: the quarantine report lists them. */
  unpriced: number;
  /** Not priced under the current rules yet (new, edited, or the rules changed): the next sync prices them, and the figures change. */
  unrated: number;
}

/** What the report needs of the configuration: the clients, and the rules the invoices are built with. */
export interface ReportConfig {
  clients: ClientConfig[];
  rates: CompiledRates;
}

interface OpenFigures {
  label: string;
  start: string;
  end: string;
  key: string;
  workedHours: string;
  billedHours: string;
  net: string;
}

const ZERO: Figures = { workedHours: '0', billedHours: '0', net: '0.00' };

/** Open drafts of one client, per period, with the figures their drafts carry. */
async function openDrafts(q: Queryable, clientId: string): Promise<Map<string, OpenFigures>> {
  const rows = await q.rows<OpenFigures>(sql`
    SELECT period_label AS label, period_start::text AS start, period_end::text AS "end", key,
      draft->>'hours' AS "workedHours", COALESCE(draft->>'billedHours', draft->>'hours') AS "billedHours", draft->>'total' AS net
    FROM invoices WHERE client_id = ${clientId} AND live AND status IN ('draft','pushed','failed')`);
  return new Map(rows.map((r) => [r.label, r]));
}

/**
 * Whether the next assembly would change this client's invoices: a priced entry on no live
 * invoice, an entry on an open draft that changed (edited, deleted, excluded, moved to another
 * client), or one on an approved invoice edited since (a correction). Otherwise the drafts are
 * the whole story and the report reads them as they are.
 */
export async function assemblyPending(q: Queryable, clientId: string): Promise<boolean> {
  const rows = await q.rows<{ pending: boolean }>(sql`
    SELECT EXISTS (
        SELECT 1 FROM time_entries te
        WHERE COALESCE(te.client_id, '') = ${clientId} AND te.deleted_at IS NULL AND te.status IN ('rated','drafted')
          AND NOT EXISTS (SELECT 1 FROM invoice_entries l WHERE l.entry_id = te.id AND l.live)
      ) OR EXISTS (
        SELECT 1 FROM invoices i
        JOIN invoice_entries l ON l.invoice_id = i.id AND l.live
        JOIN time_entries te ON te.id = l.entry_id
        WHERE i.client_id = ${clientId} AND i.live
          AND ((i.status IN ('draft','pushed','failed') AND (te.revision <> l.entry_revision OR te.status = 'rated'
                  -- No longer billable here but still billed on the draft (a credit-only link is settled).
                  OR ((te.deleted_at IS NOT NULL OR te.status <> 'drafted' OR te.client_id IS DISTINCT FROM ${clientId}) AND l.lines <> '[]'::jsonb)))
            OR (i.status IN ('approved','paid') AND te.revision > l.entry_revision))
      ) AS pending`);
  return rows[0]?.pending ?? false;
}

function figures(r: OpenFigures | undefined): Figures {
  return r ? { workedHours: trim(r.workedHours), billedHours: trim(r.billedHours), net: fixed(r.net) } : ZERO;
}

function plus(a: Figures, b: Figures, sign = 1): Figures {
  return {
    workedHours: trim(dec(a.workedHours).plus(dec(b.workedHours).times(sign))),
    billedHours: trim(dec(a.billedHours).plus(dec(b.billedHours).times(sign))),
    net: fixed(dec(a.net).plus(dec(b.net).times(sign))),
  };
}

function trim(v: Money | string): string {
  return dec(v).toFixed();
}

/**
 * Outstanding hours and net amounts per client and billing period: everything accepted and
 * billable that no approved invoice bills yet. The figures are the invoices' own, to the cent:
 * `drafted` is what the period's open draft says; `notDrafted` is what the next assembly
 * changes on that invoice, found by running the assembly itself (assembleAll, as a sync does:
 * the invoice builder's grouping, rounding and minimums) inside a transaction that is rolled
 * back. So drafted + notDrafted is exactly the invoice total the next sync writes, never a sum
 * "before rounding".
 * Entries not yet priced under the current rules (`unrated`) are not in the figures yet.
 */
export async function unbilledReport(ledger: Ledger, config: ReportConfig, clientId?: string): Promise<UnbilledRow[]> {
  const counts = await ledger.rows<{ client: string; entries: number; excluded: number; unpriced: number; unrated: number }>(sql`
    SELECT te.client_id AS client,
      count(*) FILTER (WHERE te.status IN ('rated','drafted'))::int AS entries,
      count(*) FILTER (WHERE te.status = 'excluded')::int AS excluded,
      count(*) FILTER (WHERE te.status = 'unpriced')::int AS unpriced,
      count(*) FILTER (WHERE te.status <> 'billed' AND te.rated_with IS DISTINCT FROM ${config.rates.hash})::int AS unrated
    FROM time_entries te
    WHERE te.deleted_at IS NULL AND te.client_id IS NOT NULL
      -- Written on COALESCE(client_id, '') so the rate-order index serves it.
      ${clientId ? sql`AND COALESCE(te.client_id, '') = ${clientId}` : sql``}
    GROUP BY te.client_id`);
  const countsBy = new Map(counts.map((c) => [c.client, c]));
  const configured = new Map(config.clients.map((c) => [c.id, c]));
  const ids = [...new Set([...config.clients.map((c) => c.id), ...counts.map((c) => c.client)])]
    .filter((id) => !clientId || id === clientId)
    .sort();

  const befores = new Map<string, Map<string, OpenFigures>>();
  for (const id of ids) befores.set(id, await openDrafts(ledger, id));
  // The what-if is the whole assembly a sync runs (every client: an entry whose client changed
  // leaves one client's draft and joins another's), and only when some client has work waiting.
  // A client whose change marker says its last assembly saw everything it reads, under the
  // same config and rules, is skipped by the assembly itself (assembleClient): nothing of it can
  // be pending. Only the others are looked at row by row.
  const marks = await ledger.rows<{ client: string; version: number; assembled: number | null; fingerprint: string | null }>(sql`
    SELECT client_id AS client, version::int AS version, assembled_version::int AS assembled, fingerprint FROM assembly_marks
    WHERE client_id = ANY(${sql.param(config.clients.map((c) => c.id))}::text[])`);
  const markOf = new Map(marks.map((m) => [m.client, m]));
  let pending = false;
  for (const c of config.clients) {
    if (pending) break;
    const m = markOf.get(c.id);
    if (m && m.assembled === m.version && m.fingerprint === assemblyFingerprint(c, config.rates)) continue;
    pending = await assemblyPending(ledger, c.id);
  }
  const afters = pending
    ? await withRollback(ledger, async (scoped) => {
        await assembleAll(scoped, config.clients, config.rates);
        const m = new Map<string, Map<string, OpenFigures>>();
        for (const id of ids) m.set(id, await openDrafts(scoped, id));
        return m;
      })
    : befores;

  const out: UnbilledRow[] = [];
  for (const id of ids) {
    // A client no longer configured is not assembled: its drafts are shown as they are.
    const client = configured.get(id);
    const before = befores.get(id)!;
    const after = afters.get(id)!;
    const c = countsBy.get(id);
    if (!c && before.size === 0 && after.size === 0) continue;
    const periods: UnbilledPeriod[] = [];
    for (const label of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(label);
      const a = after.get(label);
      const drafted = figures(b);
      const outstanding = figures(a);
      periods.push({
        period: label,
        start: (b ?? a)!.start,
        end: (b ?? a)!.end,
        invoice: (a ?? b)!.key,
        drafted,
        notDrafted: plus(outstanding, drafted, -1),
        outstanding,
      });
    }
    periods.sort((x, y) => x.start.localeCompare(y.start) || x.period.localeCompare(y.period));
    const total = (f: (p: UnbilledPeriod) => Figures) => periods.reduce((acc, p) => plus(acc, f(p)), ZERO);
    out.push({
      client: id,
      currency: client?.currency ?? '',
      drafted: total((p) => p.drafted),
      notDrafted: total((p) => p.notDrafted),
      outstanding: total((p) => p.outstanding),
      periods,
      entries: c?.entries ?? 0,
      excluded: c?.excluded ?? 0,
      unpriced: c?.unpriced ?? 0,
      unrated: c?.unrated ?? 0,
    });
  }
  return out;
}

export interface ExcludedRow {
  entry: string;
  source: string;
  client: string | null;
  date: string;
  worker: string;
  reason: string;
  file: string | null;
  row: number | null;
}

/** Entries kept but not invoiced — non-billable, not approved where the client requires it, billed at source — with the reason. */
export async function excludedReport(q: Queryable, filter: { clientId?: string; sourceId?: string } = {}): Promise<ExcludedRow[]> {
  return q.rows<ExcludedRow>(sql`
    SELECT source_id || ':' || external_id AS entry, source_id AS source, client_id AS client, work_date::text AS date, worker,
      COALESCE(status_reason, 'excluded') AS reason, data->'provenance'->>'file' AS file, (data->'provenance'->>'row')::int AS row
    FROM time_entries
    WHERE status = 'excluded' AND deleted_at IS NULL
      ${filter.clientId ? sql`AND COALESCE(client_id, '') = ${filter.clientId}` : sql``}
      ${filter.sourceId ? sql`AND source_id = ${filter.sourceId}` : sql``}
    ORDER BY client_id, work_date, source_id, external_id`);
}

export interface InvoiceReportRow {
  key: string;
  client: string;
  period: string;
  /** First and last local date of the billing period. */
  start: string;
  end: string;
  destination: string;
  currency: string;
  workedHours: string;
  billedHours: string;
  /** Net of tax (the sum of the net line amounts). */
  net: string;
  status: string;
  remoteStatus: string | null;
  remoteId: string | null;
  /** What the destination holds under remoteId: 'invoice' or 'credit-note' (null = invoice). */
  remoteType: string | null;
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
export async function invoicesReport(
  q: Queryable,
  filter: { clientId?: string; approvedOnly?: boolean } = {},
): Promise<InvoiceReportRow[]> {
  return q.rows<InvoiceReportRow>(sql`
    SELECT key, client_id AS client, period_label AS period, period_start::text AS start, period_end::text AS "end",
      destination_id AS destination, currency, (draft->>'hours') AS "workedHours",
      COALESCE(draft->>'billedHours', draft->>'hours') AS "billedHours", (draft->>'total') AS net,
      status, remote_status AS "remoteStatus", remote_id AS "remoteId", remote_type AS "remoteType",
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

/**
 * Every rejected input row (with where it is and why) and every accepted entry that cannot be
 * priced. With `clientId`, only that client's unpriced entries: a rejected row has no client.
 */
export async function quarantineReport(
  q: Queryable,
  filter: string | { sourceId?: string; clientId?: string } = {},
): Promise<QuarantineRow[]> {
  const { sourceId, clientId } = typeof filter === 'string' ? { sourceId: filter, clientId: undefined } : filter;
  const rejected = sql`
    SELECT source_id AS source, file, row_number AS row, column_name AS column, field, reason, raw AS value,
      record_ref AS ref, first_seen_at::text AS since
    FROM quarantine WHERE resolved_at IS NULL ${sourceId ? sql`AND source_id = ${sourceId}` : sql``}
    UNION ALL`;
  return q.rows<QuarantineRow>(sql`
    ${clientId ? sql`` : rejected}
    SELECT source_id AS source, data->'provenance'->>'file' AS file, (data->'provenance'->>'row')::int AS row, NULL AS column,
      'rate' AS field, status_reason AS reason, NULL::jsonb AS value, external_id AS ref, updated_at::text AS since
    FROM time_entries WHERE status = 'unpriced' AND deleted_at IS NULL ${sourceId ? sql`AND source_id = ${sourceId}` : sql``}
      ${clientId ? sql`AND COALESCE(client_id, '') = ${clientId}` : sql``}
    ORDER BY 1, 3 NULLS LAST, 8`);
}
