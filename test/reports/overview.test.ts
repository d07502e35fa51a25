import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sql, type SQL } from 'drizzle-orm';
import { openLedger, type Ledger, type Queryable } from '../../src/ledger/db';
import { ageingRows, buildOverview, parseOverviewOptions } from '../../src/reports/overview';
import { excludedReport, type InvoiceReportRow, invoicesReport, quarantineReport, type UnbilledRow } from '../../src/reports/reports';
import { recentRuns, runsFingerprint } from '../../src/reports/runs';

const cents = (s: string) => {
  const [i, f = ''] = s.replace('-', '').split('.');
  return (s.startsWith('-') ? -1 : 1) * (Number(i) * 100 + Number(f.padEnd(2, '0').slice(0, 2)));
};
const money = (c: number) => `${c < 0 ? '-' : ''}${Math.floor(Math.abs(c) / 100)}.${String(Math.abs(c) % 100).padStart(2, '0')}`;

const CLIENTS = [
  { id: 'acme', name: 'Acme', currency: 'EUR', timeZone: 'Europe/Amsterdam', period: { unit: 'month' as const } },
  { id: 'globex', name: 'Globex', currency: 'EUR', timeZone: 'UTC', period: { unit: 'month' as const } },
  { id: 'initech', name: 'Initech', currency: 'USD', timeZone: 'America/New_York', period: { unit: 'month' as const } },
];
const NOW = new Date('2026-06-15T12:00:00Z');
const MONTHS = Array.from({ length: 18 }, (_, i) => {
  const d = new Date(Date.UTC(2025, i, 1));
  return d.toISOString().slice(0, 10);
});
const endOf = (start: string) => new Date(Date.UTC(Number(start.slice(0, 4)), Number(start.slice(5, 7)), 0)).toISOString().slice(0, 10);

const invoiceArb = fc.record({
  client: fc.constantFrom(...CLIENTS.map((c) => c.id)),
  start: fc.constantFrom(...MONTHS),
  status: fc.constantFrom('draft', 'pushed', 'failed', 'approved', 'paid'),
  cents: fc.integer({ min: -50_000, max: 5_000_000 }),
  notDraftedCents: fc.integer({ min: -20_000, max: 500_000 }),
  hours: fc.integer({ min: 0, max: 4000 }).map((q) => (q / 4).toString()),
});

/** Invoices and the unbilled rows the ledger would report for them: each open draft is a period's `drafted`. */
type InvoiceSpec = typeof invoiceArb extends fc.Arbitrary<infer T> ? T : never;
function ledgerOf(specs: InvoiceSpec[]) {
  const invoices: InvoiceReportRow[] = specs.map((s, i) => ({
    key: `${s.client}-${s.start}-files-${i + 1}`,
    client: s.client,
    period: s.start.slice(0, 7),
    start: s.start,
    end: endOf(s.start),
    destination: 'files',
    currency: CLIENTS.find((c) => c.id === s.client)!.currency,
    workedHours: s.hours,
    billedHours: s.hours,
    net: money(s.cents),
    status: s.status,
    remoteStatus: null,
    remoteId: null,
    remoteType: null,
    remoteTax: null,
    remoteGross: null,
    error: null,
    updatedAt: '',
  }));
  const unbilled: UnbilledRow[] = CLIENTS.map((c) => {
    const open = specs
      .map((s, i) => ({ s, inv: invoices[i]! }))
      .filter(({ s }) => s.client === c.id && !['approved', 'paid'].includes(s.status));
    const periods = open.map(({ s, inv }) => {
      const drafted = { workedHours: s.hours, billedHours: s.hours, net: inv.net };
      const notDrafted = { workedHours: '0', billedHours: '0', net: money(s.notDraftedCents) };
      return {
        period: inv.period,
        start: inv.start,
        end: inv.end,
        invoice: inv.key,
        drafted,
        notDrafted,
        outstanding: { ...drafted, net: money(s.cents + s.notDraftedCents) },
      };
    });
    const sumNet = (f: (p: (typeof periods)[number]) => string) => money(periods.reduce((a, p) => a + cents(f(p)), 0));
    const fig = (net: string) => ({ workedHours: '0', billedHours: '0', net });
    return {
      client: c.id,
      currency: c.currency,
      drafted: fig(sumNet((p) => p.drafted.net)),
      notDrafted: fig(sumNet((p) => p.notDrafted.net)),
      outstanding: fig(sumNet((p) => p.outstanding.net)),
      periods,
      entries: 0,
      excluded: 0,
      unpriced: 0,
      unrated: 0,
    };
  });
  return { invoices, unbilled };
}

describe('Overview figures', () => {
  it('Given any set of invoices When the overview is built Then every figure is a sum of invoice totals, to the cent', () => {
    fc.assert(
      fc.property(fc.array(invoiceArb, { maxLength: 40 }), fc.constantFrom('week' as const, 'month' as const), (specs, bucket) => {
        const { invoices, unbilled } = ledgerOf(specs);
        const o = buildOverview({
          clients: CLIENTS,
          unbilled,
          invoices,
          ageing: [],
          now: NOW,
          bucket,
          from: '2024-12-01',
          to: '2026-12-31',
        });
        for (const currency of ['EUR', 'USD']) {
          const mine = invoices.filter((i) => i.currency === currency);
          const billed = mine.filter((i) => i.status === 'approved' || i.status === 'paid');
          const open = mine.filter((i) => !(i.status === 'approved' || i.status === 'paid'));
          const t = o.totals.find((x) => x.currency === currency)!;
          // On drafts: exactly the open invoices' nets.
          expect(cents(t.drafted.net)).toBe(open.reduce((a, i) => a + cents(i.net), 0));
          // Billed this and last period: the approved invoices of those periods (June and May 2026 here).
          expect(cents(t.billedCurrent.net)).toBe(billed.filter((i) => i.start === '2026-06-01').reduce((a, i) => a + cents(i.net), 0));
          expect(cents(t.billedPrevious.net)).toBe(billed.filter((i) => i.start === '2026-05-01').reduce((a, i) => a + cents(i.net), 0));
          // Clients add up to the currency's total.
          const rows = o.clients.filter((c) => c.currency === currency);
          expect(rows.reduce((a, c) => a + cents(c.outstanding.net), 0)).toBe(cents(t.outstanding.net));
          expect(cents(t.outstanding.net)).toBe(cents(t.drafted.net) + cents(t.notDrafted.net));
          // The chart over a range holding every period: billed = every approved invoice, outstanding = the unbilled report.
          const series = o.chart.series.find((s) => s.currency === currency)!;
          expect(series.points.reduce((a, p) => a + cents(p.billed), 0)).toBe(billed.reduce((a, i) => a + cents(i.net), 0));
          expect(series.points.reduce((a, p) => a + cents(p.outstanding), 0)).toBe(cents(t.outstanding.net));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('Given a chart range When it ends before some invoices Then only the periods starting in it are drawn', () => {
    const { invoices, unbilled } = ledgerOf([
      { client: 'acme', start: '2026-01-01', status: 'approved', cents: 10_000, notDraftedCents: 0, hours: '1' },
      { client: 'acme', start: '2026-03-01', status: 'paid', cents: 5_005, notDraftedCents: 0, hours: '1' },
    ]);
    const o = buildOverview({
      clients: CLIENTS,
      unbilled,
      invoices,
      ageing: [],
      now: NOW,
      bucket: 'month',
      from: '2026-01-01',
      to: '2026-02-28',
    });
    const eur = o.chart.series.find((s) => s.currency === 'EUR')!;
    expect(eur.points.map((p) => [p.label, p.billed])).toEqual([
      ['2026-01', '100.00'],
      ['2026-02', '0.00'],
    ]);
  });

  it('Given bad options When parsed Then the error names the option', () => {
    expect(() => parseOverviewOptions({ bucket: 'day' })).toThrow(/bucket must be week or month/);
    expect(() => parseOverviewOptions({ from: '2026-13-01' })).toThrow(/from must be a date/);
    expect(() => parseOverviewOptions({ from: '2026-02-01', to: '2026-01-01' })).toThrow(/after/);
    expect(parseOverviewOptions({ bucket: 'month', from: '2026-01-01' })).toEqual({ bucket: 'month', from: '2026-01-01' });
  });
});

describe('Query plans of the per-client figures', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger.close();
  });

  /** Runs every query as EXPLAIN first, with sequential scans priced out: a plan still scanning a table has no index to use. */
  function explaining(plans: string[]): Queryable {
    return {
      async rows<T>(query: SQL) {
        const plan = await ledger.rows<{ 'QUERY PLAN': string }>(sql`EXPLAIN ${query}`);
        plans.push(plan.map((p) => p['QUERY PLAN']).join('\n'));
        return ledger.rows<T>(query);
      },
    };
  }

  it('Given the client page and runs queries When explained Then indexes serve every one (no sequential scan)', async () => {
    await ledger.rows(sql`SET enable_seqscan = off`);
    try {
      const plans: string[] = [];
      const q = explaining(plans);
      await ageingRows(q, ['acme'], '2026-06-15');
      await invoicesReport(q, { clientId: 'acme' });
      await excludedReport(q, { clientId: 'acme' });
      await quarantineReport(q, { clientId: 'acme' });
      await recentRuns(q);
      await runsFingerprint(q);
      expect(plans).toHaveLength(6);
      for (const plan of plans) {
        expect(plan).not.toMatch(/Seq Scan/);
        expect(plan).toMatch(/Index/);
      }
      expect(plans[0]).toMatch(/time_entries_rate_order_idx/);
      expect(plans[1]).toMatch(/invoices_slot_uq/);
      expect(plans[4]).toMatch(/runs_started_idx/);
    } finally {
      await ledger.rows(sql`RESET enable_seqscan`);
    }
  });
});
