import { seenOf } from '../support/seen';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { markDeleted, SeenKeys, upsertEntries } from '../../src/ledger/entries.repository';
import { applyRemoteStatus } from '../../src/ledger/invoices.repository';
import { rateStale } from '../../src/stages/rate.stage';
import { assembleAll } from '../../src/stages/assemble.stage';
import { ClientResolver } from '../../src/stages/clients';
import { dec, sum } from '../../src/domain/money';
import { client, entry, simpleRates } from '../support/entries';

/**
 * Invariant 2 and 3 under arbitrary histories: whatever sequence of edits, deletions,
 * approvals, voids and re-runs happens, every live billable entry is on exactly one live
 * invoice, no entry is ever on two, and each invoice's total is the sum of its lines.
 */
type Op =
  | { op: 'upsert'; ids: number[]; day: number; hours: number }
  | { op: 'delete'; ids: number[] }
  | { op: 'approve'; pick: number }
  | { op: 'void'; pick: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('upsert' as const),
      ids: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 5 }),
      day: fc.integer({ min: 1, max: 60 }),
      hours: fc.integer({ min: 1, max: 10 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      ids: fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('approve' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('void' as const), pick: fc.nat() }) },
);

describe('billing invariants under arbitrary histories (embedded ledger)', () => {
  let ledger: Ledger;
  const acme = client({ period: { unit: 'week', weekStart: 'monday' } });
  const rates = simpleRates([acme]);
  const clients = new ClientResolver([acme]);

  beforeAll(async () => {
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => ledger?.close());

  it('Given any sequence of edits, deletions, approvals and voids When the pipeline runs after each Then no entry is on two live invoices and every live priced entry is on exactly one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 1, maxLength: 8 }), async (ops) => {
        await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
        const live = new Map<number, { day: number; hours: number }>();
        let run = 0;
        for (const o of ops) {
          run++;
          if (o.op === 'upsert') {
            for (const id of o.ids) live.set(id, { day: o.day, hours: o.hours });
            // A snapshot source: every run sends every live row.
            const list = [...live.entries()].map(([id, v]) => {
              const start = new Date(Date.UTC(2026, 0, v.day, 8));
              return entry({
                externalId: `e${id}`,
                date: start.toISOString().slice(0, 10),
                start: start.toISOString(),
                end: new Date(start.getTime() + v.hours * 3600_000).toISOString(),
                durationSeconds: v.hours * 3600,
              });
            });
            await upsertEntries(ledger, list, seenOf(`r${run}`));
          } else if (o.op === 'delete') {
            for (const id of o.ids) live.delete(id);
            // The source now lists exactly the live entries.
            const seen = new SeenKeys();
            seen.addKeys(
              'sheet',
              [...live.keys()].map((i) => `e${i}`),
            );
            await markDeleted(ledger, 'sheet', seen, { from: null, to: null });
          } else {
            const open = await ledger.rows<{ key: string }>(
              sql`SELECT key FROM invoices WHERE live AND status IN ('draft','pushed') ORDER BY key`,
            );
            const target = open[o.pick % Math.max(open.length, 1)];
            if (target) {
              await ledger.rows(sql`UPDATE invoices SET pushed_hash = content_hash, status = 'pushed' WHERE key = ${target.key}`);
              await applyRemoteStatus(
                ledger,
                { key: target.key },
                o.op === 'approve' ? 'approved' : 'voided',
                o.op === 'approve' ? 'AUTHORISED' : 'VOIDED',
              );
            }
          }
          await rateStale({ ledger, rates, clients });
          await assembleAll(ledger, [acme], rates);

          const twice = await ledger.rows<{ n: number }>(sql`
            SELECT count(*)::int AS n FROM (SELECT ie.entry_id FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id
              WHERE ie.live AND i.live GROUP BY ie.entry_id HAVING count(*) > 1) x`);
          expect(twice[0]!.n).toBe(0);
          const unplaced = await ledger.rows<{ external_id: string }>(sql`
            SELECT te.external_id FROM time_entries te
            WHERE te.deleted_at IS NULL AND NOT EXISTS (
              SELECT 1 FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id WHERE ie.entry_id = te.id AND ie.live AND i.live)`);
          expect(unplaced).toEqual([]);
          const invoices = await ledger.rows<{ total: string; lines: Array<{ amount: string }> }>(sql`
            SELECT draft->>'total' AS total, draft->'lines' AS lines FROM invoices WHERE live`);
          for (const inv of invoices) expect(dec(inv.total).eq(sum(inv.lines.map((l) => l.amount)))).toBe(true);
        }
        // What is billed net equals what is true now: live entries' hours × rate, across all live invoices.
        const expected = sum([...live.values()].map((v) => dec(v.hours).times(65)));
        const [{ total }] = (await ledger.rows<{ total: string | null }>(
          sql`SELECT sum((draft->>'total')::numeric)::text AS total FROM invoices WHERE live`,
        )) as [{ total: string | null }];
        expect(dec(total ?? '0').eq(expected)).toBe(true);
      }),
      {
        numRuns: 25,
        // Found by this property: voiding a correction must bring back the credited invoice's claim.
        examples: [
          [
            [
              { op: 'upsert', ids: [0], day: 1, hours: 1 },
              { op: 'approve', pick: 0 },
              { op: 'upsert', ids: [0], day: 1, hours: 2 },
              { op: 'void', pick: 0 },
              { op: 'approve', pick: 0 },
            ],
          ],
        ],
      },
    );
  });
});
