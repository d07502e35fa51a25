import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { ClientConfig } from '../config/client.schema';
import { dec, fixed } from '../domain/money';
import type { Ledger, Queryable } from '../ledger/db';
import { addDays, periodOf } from '../stages/periods';
import { type Figures, type InvoiceReportRow, invoicesReport, type ReportConfig, type UnbilledRow, unbilledReport } from './reports';

/**
 * The finance overview: per client, in its currency, what is not on a draft yet, what is on
 * open drafts, and what approved invoices bill in the current and the previous billing period;
 * the same per currency; the ageing of outstanding hours; billed vs outstanding over time.
 * Every amount is an invoice's own figure (the unbilled report's and the invoices' nets), so
 * the overview equals the invoices to the cent. `report overview --json`, `GET /reports/overview`
 * and the page all read `overviewReport`.
 */

export const AGEING_BUCKETS = ['0-7', '8-30', '31-90', '>90'] as const;
export type AgeingBucket = (typeof AGEING_BUCKETS)[number];
export type Ageing = Record<AgeingBucket, string>;

export interface PeriodFigures extends Figures {
  period: string;
  start: string;
  end: string;
}

export interface ClientOverview {
  client: string;
  name: string;
  currency: string;
  /** Priced, not on a draft yet (what the next sync adds to the drafts). */
  notDrafted: Figures;
  /** On open drafts (not approved yet). */
  drafted: Figures;
  /** notDrafted + drafted. */
  outstanding: Figures;
  /** Approved or paid invoices of the client's current billing period (today in its time zone) … */
  billedCurrent: PeriodFigures;
  /** … and of the period before it. */
  billedPrevious: PeriodFigures;
  /** Worked hours not on an approved invoice yet, by days since they were worked. */
  ageing: Ageing;
  excluded: number;
  unpriced: number;
  unrated: number;
}

export interface CurrencyTotals {
  currency: string;
  clients: number;
  notDrafted: Figures;
  drafted: Figures;
  outstanding: Figures;
  billedCurrent: Figures;
  billedPrevious: Figures;
  ageing: Ageing;
}

export type ChartBucket = 'week' | 'month';

export interface ChartPoint {
  /** First day of the week (Monday) or month. */
  start: string;
  label: string;
  /** Net of approved/paid invoices whose period starts in the bucket. */
  billed: string;
  /** Net outstanding (drafted + not drafted) of periods starting in the bucket. */
  outstanding: string;
}

export interface ChartSeries {
  currency: string;
  points: ChartPoint[];
}

export interface Overview {
  ok: true;
  report: 'overview';
  clients: ClientOverview[];
  totals: CurrencyTotals[];
  chart: { bucket: ChartBucket; from: string; to: string; series: ChartSeries[] };
}

export interface OverviewOptions {
  /** "Now" (default: the current time); each client's today is this instant in its time zone. */
  now?: Date;
  bucket?: ChartBucket;
  /** Chart range (inclusive local dates); default the 12 weeks or 12 months up to now. */
  from?: string;
  to?: string;
}

/** What the ledger gives the overview: hours by age per client (the rest comes from the reports). */
export interface AgeingRow {
  client: string;
  bucket: AgeingBucket;
  hours: string;
}

const ZERO: Figures = { workedHours: '0', billedHours: '0', net: '0.00' };
const ZERO_AGEING: Ageing = { '0-7': '0', '8-30': '0', '31-90': '0', '>90': '0' };

function plus(a: Figures, b: Figures): Figures {
  return {
    workedHours: dec(a.workedHours).plus(b.workedHours).toFixed(),
    billedHours: dec(a.billedHours).plus(b.billedHours).toFixed(),
    net: fixed(dec(a.net).plus(b.net)),
  };
}

function plusAgeing(a: Ageing, b: Ageing): Ageing {
  const out = { ...ZERO_AGEING };
  for (const k of AGEING_BUCKETS) out[k] = dec(a[k]).plus(b[k]).toFixed();
  return out;
}

const invoiceFigures = (i: Pick<InvoiceReportRow, 'workedHours' | 'billedHours' | 'net'>): Figures => ({
  workedHours: dec(i.workedHours).toFixed(),
  billedHours: dec(i.billedHours).toFixed(),
  net: fixed(i.net),
});

const BILLED = new Set(['approved', 'paid']);

/** Monday of the ISO week, or the first of the month, of a local date. */
export function bucketStart(date: string, bucket: ChartBucket): string {
  const d = DateTime.fromISO(date, { zone: 'utc' });
  return (bucket === 'week' ? d.startOf('week') : d.startOf('month')).toISODate()!;
}

function bucketLabel(start: string, bucket: ChartBucket): string {
  const d = DateTime.fromISO(start, { zone: 'utc' });
  return bucket === 'week' ? `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}` : d.toFormat('yyyy-MM');
}

/** The chart's default range: the 12 weeks or 12 months up to `today`. */
export function defaultRange(today: string, bucket: ChartBucket): { from: string; to: string } {
  const d = DateTime.fromISO(today, { zone: 'utc' });
  const from = bucket === 'week' ? d.startOf('week').minus({ weeks: 11 }) : d.startOf('month').minus({ months: 11 });
  return { from: from.toISODate()!, to: today };
}

/**
 * The overview from what the ledger says (pure: the property test holds it to the invoices).
 * `invoices` are the live invoices (`report billed`), `unbilled` the outstanding per period
 * (`report unbilled`), `ageing` the outstanding hours by age.
 */
export function buildOverview(args: {
  clients: ReadonlyArray<Pick<ClientConfig, 'id' | 'name' | 'currency' | 'timeZone' | 'period'>>;
  unbilled: UnbilledRow[];
  invoices: InvoiceReportRow[];
  ageing: AgeingRow[];
  now: Date;
  bucket: ChartBucket;
  from: string;
  to: string;
}): Overview {
  const configured = new Map(args.clients.map((c) => [c.id, c]));
  const unbilledBy = new Map(args.unbilled.map((u) => [u.client, u]));
  const ids = [
    ...new Set([...args.clients.map((c) => c.id), ...args.unbilled.map((u) => u.client), ...args.invoices.map((i) => i.client)]),
  ].sort();
  const clients: ClientOverview[] = [];
  for (const id of ids) {
    const c = configured.get(id);
    const u = unbilledBy.get(id);
    const own = args.invoices.filter((i) => i.client === id);
    const currency = c?.currency ?? u?.currency ?? own[0]?.currency ?? '';
    // A client no longer configured keeps its figures; its periods are those of its invoices.
    const today = DateTime.fromJSDate(args.now, { zone: c?.timeZone ?? 'UTC' }).toISODate()!;
    const current = c ? periodOf(today, c.period) : { start: today, end: today, label: today };
    const previous = c ? periodOf(addDays(current.start, -1), c.period) : current;
    const billedIn = (p: { start: string; end: string; label: string }): PeriodFigures => ({
      period: p.label,
      start: p.start,
      end: p.end,
      ...own.filter((i) => BILLED.has(i.status) && i.start === p.start).reduce((acc, i) => plus(acc, invoiceFigures(i)), ZERO),
    });
    const ageing = { ...ZERO_AGEING };
    for (const a of args.ageing) if (a.client === id) ageing[a.bucket] = dec(ageing[a.bucket]).plus(a.hours).toFixed();
    clients.push({
      client: id,
      name: c?.name ?? id,
      currency,
      notDrafted: u?.notDrafted ?? ZERO,
      drafted: u?.drafted ?? ZERO,
      outstanding: u?.outstanding ?? ZERO,
      billedCurrent: billedIn(current),
      billedPrevious: c ? billedIn(previous) : { ...ZERO, period: '', start: '', end: '' },
      ageing,
      excluded: u?.excluded ?? 0,
      unpriced: u?.unpriced ?? 0,
      unrated: u?.unrated ?? 0,
    });
  }

  const totals = new Map<string, CurrencyTotals>();
  for (const c of clients) {
    const t = totals.get(c.currency) ?? {
      currency: c.currency,
      clients: 0,
      notDrafted: ZERO,
      drafted: ZERO,
      outstanding: ZERO,
      billedCurrent: ZERO,
      billedPrevious: ZERO,
      ageing: ZERO_AGEING,
    };
    totals.set(c.currency, {
      currency: c.currency,
      clients: t.clients + 1,
      notDrafted: plus(t.notDrafted, c.notDrafted),
      drafted: plus(t.drafted, c.drafted),
      outstanding: plus(t.outstanding, c.outstanding),
      billedCurrent: plus(t.billedCurrent, c.billedCurrent),
      billedPrevious: plus(t.billedPrevious, c.billedPrevious),
      ageing: plusAgeing(t.ageing, c.ageing),
    });
  }

  // Chart: one series per currency, one point per week or month of the range.
  const starts: string[] = [];
  for (let s = bucketStart(args.from, args.bucket); s <= args.to; ) {
    starts.push(s);
    const d = DateTime.fromISO(s, { zone: 'utc' });
    s = (args.bucket === 'week' ? d.plus({ weeks: 1 }) : d.plus({ months: 1 })).toISODate()!;
  }
  const inRange = (date: string) => date >= bucketStart(args.from, args.bucket) && date <= args.to;
  const series: ChartSeries[] = [...totals.keys()].sort().map((currency) => {
    const billed = new Map<string, ReturnType<typeof dec>>();
    const outstanding = new Map<string, ReturnType<typeof dec>>();
    const add = (m: Map<string, ReturnType<typeof dec>>, date: string, net: string) => {
      if (!inRange(date)) return;
      const k = bucketStart(date, args.bucket);
      m.set(k, (m.get(k) ?? dec(0)).plus(net));
    };
    for (const i of args.invoices) if (i.currency === currency && BILLED.has(i.status)) add(billed, i.start, i.net);
    for (const u of args.unbilled)
      if ((configured.get(u.client)?.currency ?? u.currency) === currency) {
        for (const p of u.periods) add(outstanding, p.start, p.outstanding.net);
      }
    return {
      currency,
      points: starts.map((s) => ({
        start: s,
        label: bucketLabel(s, args.bucket),
        billed: fixed(billed.get(s) ?? 0),
        outstanding: fixed(outstanding.get(s) ?? 0),
      })),
    };
  });

  return {
    ok: true,
    report: 'overview',
    clients,
    totals: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    chart: { bucket: args.bucket, from: args.from, to: args.to, series },
  };
}

/**
 * Worked hours not on an approved invoice yet (entries priced or on an open draft), by days
 * since worked, per client, in one statement. The entries are found through the rate-order
 * index on COALESCE(client_id, '') (one range per client), their rated lines by the
 * (entry_id, piece) index.
 */
export async function ageingRows(q: Queryable, clientIds: string[], today: string): Promise<AgeingRow[]> {
  if (clientIds.length === 0) return [];
  return q.rows<AgeingRow>(sql`
    SELECT COALESCE(te.client_id, '') AS client,
      CASE WHEN ${today}::date - te.work_date <= 7 THEN '0-7' WHEN ${today}::date - te.work_date <= 30 THEN '8-30'
           WHEN ${today}::date - te.work_date <= 90 THEN '31-90' ELSE '>90' END AS bucket,
      COALESCE(sum(rl.quantity), 0)::text AS hours
    FROM time_entries te
    JOIN rated_lines rl ON rl.entry_id = te.id AND rl.entry_revision = te.revision AND rl.kind = 'time'
    WHERE COALESCE(te.client_id, '') = ANY(${sql.param(clientIds)}::text[]) AND te.deleted_at IS NULL AND te.status IN ('rated','drafted')
    GROUP BY 1, 2`);
}

/** The overview over a ledger: the unbilled and billed reports plus the ageing, put together by buildOverview. */
export async function overviewReport(
  ledger: Ledger,
  config: ReportConfig & { clients: ClientConfig[] },
  options: OverviewOptions = {},
): Promise<Overview> {
  const now = options.now ?? new Date();
  const bucket = options.bucket ?? 'week';
  const today = DateTime.fromJSDate(now, { zone: 'UTC' }).toISODate()!;
  const range = defaultRange(today, bucket);
  const [unbilled, invoices] = [await unbilledReport(ledger, config), await invoicesReport(ledger)];
  const ids = [...new Set([...config.clients.map((c) => c.id), ...unbilled.map((u) => u.client)])];
  const ageing = await ageingRows(ledger, ids, today);
  // The default range reaches back to the oldest outstanding period (at most two years), so
  // nothing still owed falls off the chart.
  const oldest = unbilled.flatMap((u) => u.periods.map((p) => p.start)).sort()[0];
  const floor = DateTime.fromISO(today, { zone: 'utc' }).minus({ years: 2 }).toISODate()!;
  // The later of two ISO dates.
  if (oldest && oldest < range.from) range.from = bucketStart([oldest, floor].sort()[1]!, bucket);
  return buildOverview({
    clients: config.clients,
    unbilled,
    invoices,
    ageing,
    now,
    bucket,
    from: options.from ?? range.from,
    to: options.to ?? range.to,
  });
}

export class OverviewOptionError extends Error {
  override readonly name = 'OverviewOptionError';
  constructor(
    message: string,
    readonly option: string,
  ) {
    super(message);
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Options from a query string or the command line, checked the same way for both. */
export function parseOverviewOptions(raw: {
  bucket?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}): OverviewOptions {
  const out: OverviewOptions = {};
  if (raw.bucket) {
    if (raw.bucket !== 'week' && raw.bucket !== 'month')
      throw new OverviewOptionError(`bucket must be week or month, got "${raw.bucket}"`, 'bucket');
    out.bucket = raw.bucket;
  }
  for (const k of ['from', 'to'] as const) {
    const v = raw[k];
    if (!v) continue;
    if (!ISO_DATE.test(v) || !DateTime.fromISO(v).isValid) throw new OverviewOptionError(`${k} must be a date YYYY-MM-DD, got "${v}"`, k);
    out[k] = v;
  }
  if (out.from && out.to && out.from > out.to) throw new OverviewOptionError(`from (${out.from}) is after to (${out.to})`, 'from');
  return out;
}
