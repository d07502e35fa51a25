import { seenOf } from '../support/seen';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { markDeleted, upsertEntries } from '../../src/ledger/entries.repository';
import { applyRemoteStatus } from '../../src/ledger/invoices.repository';
import { rateStale } from '../../src/stages/rate.stage';
import { assembleAll } from '../../src/stages/assemble.stage';
import { ClientResolver } from '../../src/stages/clients';
import { assemblyPending, unbilledReport } from '../../src/reports/reports';
import { compileRates, ratesConfigSchema } from '../../src/rates/index';
import type { ClientConfig } from '../../src/config/client.schema';
import type { TimeEntry } from '../../src/domain/time-entry';
import { dec, sum } from '../../src/domain/money';
import { client, entry } from '../support/entries';

/**
 * Every figure finance sees equals what the invoices show: on any ledger — entries of two
 * clients with their own grouping and periods, prices with cents that do not divide, call-out
 * and invoice minimums, some entries on drafts, some priced but not drafted, some edited since
 * (some moved to the other client), some deleted, some billed on an approved invoice and edited after
 * (corrections) — the unbilled report's
 * figures per client and period are the open drafts' own totals (`drafted`) and, with what is
 * not drafted yet, exactly the totals of the invoices the next assembly writes.
 */

const groupings = fc.constantFrom<ClientConfig['lines']['groupBy']>(
  'entry',
  ['worker'],
  ['worker', 'project'],
  ['date'],
  ['project', 'rule'],
);
const prices = fc.constantFrom('65.00', '42.37', '33.33', '71.19', '0.07');

interface Shift {
  id: number;
  client: 'acme' | 'globex';
  day: number;
  startMinute: number;
  minutes: number;
  worker: string;
  project: string;
}

const arbShift = (id: number): fc.Arbitrary<Shift> =>
  fc.record({
    id: fc.constant(id),
    client: fc.constantFrom('acme' as const, 'globex' as const),
    day: fc.integer({ min: 1, max: 40 }),
    startMinute: fc.integer({ min: 6 * 60, max: 20 * 60 }),
    minutes: fc.integer({ min: 20, max: 9 * 60 }),
    worker: fc.constantFrom('Anna', 'Bram', 'Chris'),
    project: fc.constantFrom('Website', 'Support'),
  });

const arbLedger = fc.record({
  acmeGroup: groupings,
  globexGroup: groupings,
  acmePrice: prices,
  globexPrice: prices,
  shiftMinimum: fc.constantFrom(0, 3),
  invoiceMinimum: fc.constantFrom(0, 400),
  drafted: fc.array(fc.nat(), { minLength: 1, maxLength: 10 }).chain((a) => fc.tuple(...a.map((_, i) => arbShift(i)))),
  approvePick: fc.option(fc.nat(), { nil: undefined }),
  later: fc.array(fc.nat(), { minLength: 0, maxLength: 8 }).chain((a) => fc.tuple(...a.map((_, i) => arbShift(100 + i)))),
  deletes: fc.array(fc.nat(), { maxLength: 2 }),
  edits: fc.array(fc.record({ pick: fc.nat(), minutes: fc.integer({ min: 20, max: 9 * 60 }), moveClient: fc.boolean() }), { maxLength: 3 }),
});

function toEntry(s: Shift): TimeEntry {
  const start = new Date(Date.UTC(2026, 2, s.day, 0, s.startMinute));
  const end = new Date(start.getTime() + s.minutes * 60_000);
  return entry({
    externalId: `e${s.id}`,
    client: s.client === 'acme' ? 'Acme B.V.' : 'Globex GmbH',
    clientId: s.client,
    worker: { name: s.worker },
    project: s.project,
    date: start.toISOString().slice(0, 10),
    start: start.toISOString(),
    end: end.toISOString(),
    durationSeconds: s.minutes * 60,
  });
}

type PeriodTotals = Map<string, { net: string; workedHours: string; billedHours: string }>;

async function openTotals(ledger: Ledger): Promise<PeriodTotals> {
  const rows = await ledger.rows<{ k: string; net: string; worked: string; billed: string }>(sql`
    SELECT client_id || '/' || period_label AS k, draft->>'total' AS net, draft->>'hours' AS worked, draft->>'billedHours' AS billed
    FROM invoices WHERE live AND status IN ('draft','pushed','failed')`);
  return new Map(rows.map((r) => [r.k, { net: r.net, workedHours: r.worked, billedHours: r.billed }]));
}

describe('unbilled report figures equal the invoices (embedded ledger)', () => {
  let ledger: Ledger;

  beforeAll(async () => {
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => ledger?.close());

  it("Given any ledger with drafted, not yet drafted, edited and corrected entries When the unbilled report is read Then per client and period its drafted figures are the open drafts and drafted + not drafted are the next assembly's invoice totals, to the cent", async () => {
    await fc.assert(
      fc.asyncProperty(arbLedger, async (g) => {
        await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
        const clients = [
          client({
            id: 'acme',
            name: 'Acme B.V.',
            period: { unit: 'month' },
            lines: { groupBy: g.acmeGroup, description: '{{project}} — {{worker}}{{label}}' },
          }),
          client({
            id: 'globex',
            name: 'Globex GmbH',
            timeZone: 'Europe/Berlin',
            period: { unit: 'week', weekStart: 'monday' },
            lines: { groupBy: g.globexGroup, description: '{{date}} {{worker}}{{label}}' },
          }),
        ];
        const { rates, issues } = compileRates(
          ratesConfigSchema.parse({
            rulesets: {
              standard: {
                base: [
                  { id: 'acme', match: { client: 'acme' }, hourly: g.acmePrice },
                  { id: 'globex', match: { client: 'globex' }, hourly: g.globexPrice },
                ],
                surcharges: [{ id: 'evening', label: 'evening', percent: 17, time: { from: '18:00', to: '22:00' } }],
                ...(g.shiftMinimum || g.invoiceMinimum
                  ? {
                      minimums: {
                        ...(g.shiftMinimum ? { shiftHours: g.shiftMinimum } : {}),
                        ...(g.invoiceMinimum ? { invoiceAmount: g.invoiceMinimum } : {}),
                      },
                    }
                  : {}),
              },
            },
          }),
          clients,
        );
        expect(issues).toEqual([]);
        const resolver = new ClientResolver(clients);

        // Drafted: priced and assembled.
        const first = g.drafted.map(toEntry);
        await upsertEntries(ledger, first, seenOf('r1'));
        await rateStale({ ledger, rates, clients: resolver });
        await assembleAll(ledger, clients, rates);
        // One of them approved in the accounting system (its later edits become corrections).
        if (g.approvePick !== undefined) {
          const open = await ledger.rows<{ key: string }>(sql`SELECT key FROM invoices WHERE live ORDER BY key`);
          const target = open[g.approvePick % open.length]!;
          await ledger.rows(sql`UPDATE invoices SET pushed_hash = content_hash, status = 'pushed' WHERE key = ${target.key}`);
          await applyRemoteStatus(ledger, { key: target.key }, 'approved', 'AUTHORISED');
        }
        // Not drafted yet: new entries and edits, priced but not assembled.
        const edited = g.edits.map((e) => {
          const s = g.drafted[e.pick % g.drafted.length]!;
          // Some edits move the entry to the other client at the source.
          return {
            ...s,
            minutes: e.minutes,
            client: e.moveClient ? (s.client === 'acme' ? ('globex' as const) : ('acme' as const)) : s.client,
          };
        });
        const second = [...g.later, ...edited].map(toEntry);
        if (second.length > 0) await upsertEntries(ledger, second, seenOf('r2'));
        // Some deleted at the source (a snapshot source: what r2 did not see again is gone).
        const deleted = new Set(g.deletes.map((d) => `e${g.drafted[d % g.drafted.length]!.id}`));
        if (deleted.size > 0) {
          const listed = await ledger.rows<{ id: string }>(
            sql`SELECT external_id AS id FROM time_entries WHERE external_id <> ALL(${sql.param([...deleted])}::text[])`,
          );
          seenOf('r2').addKeys(
            'sheet',
            listed.map((r) => r.id),
          );
          await markDeleted(ledger, 'sheet', seenOf('r2'), { from: null, to: null });
        }
        await rateStale({ ledger, rates, clients: resolver });

        const before = await openTotals(ledger);
        const report = await unbilledReport(ledger, { clients, rates });
        // Reading the report changes nothing.
        expect(await openTotals(ledger)).toEqual(before);
        await assembleAll(ledger, clients, rates);
        const after = await openTotals(ledger);

        const seen = new Set<string>();
        for (const row of report) {
          for (const p of row.periods) {
            const k = `${row.client}/${p.period}`;
            seen.add(k);
            const b = before.get(k);
            const a = after.get(k);
            expect(p.drafted.net).toBe(b ? b.net : '0.00');
            expect(p.drafted.workedHours).toBe(dec(b?.workedHours ?? 0).toFixed());
            expect(p.outstanding.net).toBe(a ? a.net : '0.00');
            expect(p.outstanding.billedHours).toBe(dec(a?.billedHours ?? 0).toFixed());
            expect(dec(p.drafted.net).plus(p.notDrafted.net).eq(p.outstanding.net)).toBe(true);
          }
          const clientAfter = sum([...after].filter(([k]) => k.startsWith(`${row.client}/`)).map(([, v]) => v.net));
          expect(dec(row.outstanding.net).eq(clientAfter)).toBe(true);
          const clientBefore = sum([...before].filter(([k]) => k.startsWith(`${row.client}/`)).map(([, v]) => v.net));
          expect(dec(row.drafted.net).eq(clientBefore)).toBe(true);
        }
        // Every open invoice, before or after, is in the report.
        for (const k of [...before.keys(), ...after.keys()]) expect(seen.has(k)).toBe(true);
        // Once assembled, nothing waits: the next report reads the drafts without a what-if.
        for (const c of clients) expect(await assemblyPending(ledger, c.id)).toBe(false);
      }),
      { numRuns: 25 },
    );
  }, 300_000);
});
