import { seenOf } from '../support/seen';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { markDeleted, upsertEntries } from '../../src/ledger/entries.repository';
import { applyRemoteStatus, recordWritten } from '../../src/ledger/invoices.repository';
import { rateStale } from '../../src/stages/rate.stage';
import { assembleAll } from '../../src/stages/assemble.stage';
import { ClientResolver } from '../../src/stages/clients';
import { dec, fixed, sum } from '../../src/domain/money';
import type { InvoiceLineDraft } from '../../src/domain/invoice';
import { client, entry, simpleRates } from '../support/entries';

/**
 * Approval, edits at source and voids in every order. A voided invoice bills nothing: its entries
 * are unbilled again, and a correction credits only what a live, approved invoice billed. After
 * every step the live invoices together bill each entry exactly as it is now (invariant 2: an
 * hour billed at most once, and none lost), and the next invoice's total is checked to the cent.
 */
const acme = client({ lines: { groupBy: 'entry', description: '{{worker}}' } });
const rates = simpleRates([acme]); // 65.00/h
const clients = new ClientResolver([acme]);

let ledger: Ledger;
let run = 0;
/** What the source holds now: external id → hours on 2026-03-02 + day. */
let source = new Map<string, { hours: number; day: number }>();

beforeAll(async () => {
  ledger = await openLedger({ dataDir: 'memory://' });
});
afterAll(async () => ledger?.close());
beforeEach(async () => {
  await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
  source = new Map();
});

/** One inline run over a snapshot source: every row it holds, the missing ones deleted. */
async function sync(): Promise<void> {
  const runId = `r${++run}`;
  const list = [...source.entries()].map(([id, v]) => {
    const start = new Date(Date.UTC(2026, 2, 2 + v.day, 8));
    return entry({
      externalId: id,
      date: start.toISOString().slice(0, 10),
      start: start.toISOString(),
      end: new Date(start.getTime() + v.hours * 3600_000).toISOString(),
      durationSeconds: v.hours * 3600,
    });
  });
  if (list.length > 0) await upsertEntries(ledger, list, seenOf(runId));
  await markDeleted(ledger, 'sheet', seenOf(runId), { from: null, to: null });
  await rateStale({ ledger, rates, clients });
  await assembleAll(ledger, [acme], rates);
}

interface Inv {
  key: string;
  status: string;
  live: boolean;
  total: string;
  lines: InvoiceLineDraft[];
}
async function invoices(): Promise<Inv[]> {
  return ledger.rows<Inv>(sql`SELECT key, status, live, draft->>'total' AS total, draft->'lines' AS lines FROM invoices ORDER BY id`);
}
async function open(): Promise<Inv | undefined> {
  return (await invoices()).find((i) => i.live && ['draft', 'pushed', 'failed'].includes(i.status));
}

/** The destination confirms it holds the invoice's current content. */
async function push(key: string): Promise<void> {
  const [row] = await ledger.rows<{ id: number; hash: string }>(
    sql`SELECT id::int AS id, content_hash AS hash FROM invoices WHERE key = ${key}`,
  );
  await recordWritten(ledger, row!.id, { contentHash: row!.hash, emptied: false });
}
/** Finance approves the open draft in the accounting system (it was pushed first). */
async function approveOpen(): Promise<string> {
  const inv = await open();
  if (!inv) throw new Error('no open draft to approve');
  await push(inv.key);
  await applyRemoteStatus(ledger, { key: inv.key }, 'approved', 'AUTHORISED');
  return inv.key;
}
async function voidInvoice(key: string): Promise<void> {
  await applyRemoteStatus(ledger, { key }, 'voided', 'VOIDED');
}

/** Invariant 2 and "none lost": per entry, the hours of every live invoice add up to the hours the source holds now. */
async function expectBilledAsSourceSays(): Promise<void> {
  const perEntry = new Map<string, ReturnType<typeof dec>>();
  for (const inv of (await invoices()).filter((i) => i.live)) {
    expect(dec(inv.total).eq(sum(inv.lines.map((l) => l.amount)))).toBe(true);
    for (const l of inv.lines) {
      expect(l.entryIds).toHaveLength(1);
      const id = l.entryIds[0]!;
      perEntry.set(id, (perEntry.get(id) ?? dec(0)).plus(l.quantity));
    }
  }
  const billed = Object.fromEntries([...perEntry].filter(([, h]) => !h.isZero()).map(([id, h]) => [id, h.toNumber()]));
  const truth = Object.fromEntries([...source].map(([id, v]) => [`sheet:${id}`, v.hours]));
  expect(billed).toEqual(truth);
  const twice = await ledger.rows<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM (SELECT ie.entry_id FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id
      WHERE ie.live AND i.live GROUP BY ie.entry_id HAVING count(*) > 1) x`);
  expect(twice[0]!.n).toBe(0);
  const liveTotal = sum((await invoices()).filter((i) => i.live).map((i) => i.total));
  expect(fixed(liveTotal)).toBe(fixed(sum([...source.values()].map((v) => dec(v.hours).times(65)))));
}

async function openTotal(): Promise<string | undefined> {
  return (await open())?.total;
}

describe('approve, edit and void in every order (embedded ledger)', () => {
  // e0: 2 h (130.00), edited to 5 h (325.00) or deleted; e1: 3 h (195.00), never changes.
  const start = async () => {
    source.set('e0', { hours: 2, day: 0 });
    source.set('e1', { hours: 3, day: 1 });
    await sync();
  };
  const edit = async () => {
    source.set('e0', { hours: 5, day: 0 });
    await sync();
  };
  const remove = async () => {
    source.delete('e0');
    await sync();
  };

  it('Given an approved invoice When an entry is edited and then the invoice is voided Then the next draft bills both entries as they are now, with no credit of the voided invoice', async () => {
    await start();
    const a = await approveOpen();
    await edit();
    expect(await openTotal()).toBe('195.00'); // -130.00 credit of A + 325.00
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('520.00');
    expect((await open())!.lines.every((l) => !l.description.startsWith('Correction'))).toBe(true);
    await expectBilledAsSourceSays();
    await approveOpen();
    await sync();
    expect(await open()).toBeUndefined();
    await expectBilledAsSourceSays();
  });

  it('Given links written with their pricing trace (an older ledger) When an entry is edited, an invoice voided and the rest re-run Then corrections and kept links are the same as without the trace', async () => {
    // Every line of every link (and of its credit) gets a trace, as links were written before.
    const trace = sql`jsonb_build_object('trace', jsonb_build_array(jsonb_build_object('rule', 'base', 'kind', 'base', 'applied', true, 'detail', 'base rate')))`;
    const traced = (col: string) => sql`(SELECT jsonb_agg(e || ${trace}) FROM jsonb_array_elements(${sql.raw(col)}) e)`;
    const withTrace = async () => {
      await ledger.rows(sql`UPDATE invoice_entries SET lines = ${traced('lines')} WHERE jsonb_array_length(lines) > 0`);
      await ledger.rows(sql`
        UPDATE invoice_entries SET credit = jsonb_set(credit, '{lines}', ${traced("credit->'lines'")})
        WHERE credit IS NOT NULL AND jsonb_array_length(credit->'lines') > 0`);
    };
    await start();
    const a = await approveOpen();
    await withTrace();
    await edit();
    expect(await openTotal()).toBe('195.00'); // -130.00 credit of A + 325.00, the trace notwithstanding
    await withTrace();
    await ledger.rows(sql`UPDATE assembly_marks SET version = version + 1`); // assembled again, nothing changed
    await sync();
    expect(await openTotal()).toBe('195.00');
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('520.00');
    await expectBilledAsSourceSays();
    // Approved after a void: its entries are looked at again on every assembly (an invoice they
    // were on was voided), and with traced links they must still need no correction.
    await approveOpen();
    await withTrace();
    await ledger.rows(sql`UPDATE assembly_marks SET version = version + 1`);
    await sync();
    expect(await open()).toBeUndefined();
    await expectBilledAsSourceSays();
  });

  it('Given an approved invoice When it is voided and then an entry is edited Then the next draft bills both entries at their current revision', async () => {
    await start();
    const a = await approveOpen();
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('325.00');
    await edit();
    expect(await openTotal()).toBe('520.00');
    await expectBilledAsSourceSays();
  });

  it('Given a draft edited before approval When it is approved and voided Then the next draft bills the edited hours once', async () => {
    await start();
    await edit();
    expect(await openTotal()).toBe('520.00');
    const a = await approveOpen();
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('520.00');
    await expectBilledAsSourceSays();
  });

  it('Given a correction approved after an edit When the corrected invoice is voided Then the credit the correction gave is billed back on the next draft', async () => {
    await start();
    const a = await approveOpen();
    await edit();
    const b = await approveOpen(); // B: -130.00 + 325.00 = 195.00, approved
    await sync();
    expect(await open()).toBeUndefined();
    await voidInvoice(a);
    await sync();
    // B billed 195.00 net for e0 and A bills nothing: 325.00 − 195.00 for e0 plus e1's 195.00.
    expect(await openTotal()).toBe('325.00');
    expect((await open())!.lines.some((l) => l.description.startsWith(`Correction of ${b}`))).toBe(true);
    await expectBilledAsSourceSays();
    const c = await approveOpen();
    await sync();
    expect(await open()).toBeUndefined();
    await expectBilledAsSourceSays();
    // Voiding that second correction too: B's stale credit is reversed again on the next draft.
    await voidInvoice(c);
    await sync();
    expect(await openTotal()).toBe('325.00');
    await expectBilledAsSourceSays();
  });

  it('Given a correction pushed with its credit When the corrected invoice is voided and the stale correction is approved before its update is written Then the next draft bills back what it credited', async () => {
    await start();
    const a = await approveOpen();
    await edit();
    const b = (await open())!.key;
    await push(b);
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('520.00'); // rebuilt without the credit, not written yet
    await applyRemoteStatus(ledger, { key: b }, 'approved', 'AUTHORISED'); // the destination still holds 195.00
    await sync();
    expect((await invoices()).find((i) => i.key === b)!.total).toBe('195.00');
    expect(await openTotal()).toBe('325.00');
    await expectBilledAsSourceSays();
  });

  it('Given a written draft changed twice without being written again When finance approves it Then the ledger holds what was written (the first content), and the two changes become one correction', async () => {
    await start();
    const a = (await open())!.key;
    await push(a); // the destination holds 2 h + 3 h = 325.00
    source.set('e0', { hours: 4, day: 0 });
    await sync(); // 455.00, not written
    source.set('e0', { hours: 5, day: 0 });
    await sync(); // 520.00, not written
    expect(await openTotal()).toBe('520.00');
    const [kept] = await ledger.rows<{ n: number }>(
      sql`SELECT jsonb_array_length(pushed_snapshot->'links')::int AS n FROM invoices WHERE key = ${a}`,
    );
    expect(kept!.n).toBe(2);
    await applyRemoteStatus(ledger, { key: a }, 'approved', 'AUTHORISED');
    expect((await invoices()).find((i) => i.key === a)!.total).toBe('325.00');
    await sync();
    expect(await openTotal()).toBe('195.00'); // e0 credited 2 h, billed 5 h
    await expectBilledAsSourceSays();
  });

  it('Given a written draft When it is written again after a change Then no copy of its links is kept until the next change', async () => {
    await start();
    const a = (await open())!.key;
    await push(a);
    const snapshot = async () => (await ledger.rows<{ s: unknown }>(sql`SELECT pushed_snapshot AS s FROM invoices WHERE key = ${a}`))[0]!.s;
    expect(await snapshot()).toBeNull();
    await sync(); // nothing changed: nothing copied
    expect(await snapshot()).toBeNull();
    await edit();
    expect(await snapshot()).not.toBeNull();
    await push(a);
    expect(await snapshot()).toBeNull();
  });

  it('Given an approved correction When the correction is voided and then the corrected invoice Then the next draft bills both entries as they are now', async () => {
    await start();
    const a = await approveOpen();
    await edit();
    const b = await approveOpen();
    await voidInvoice(b);
    await sync();
    expect(await openTotal()).toBe('195.00'); // A's claim is back: correct it again
    await expectBilledAsSourceSays();
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('520.00');
    await expectBilledAsSourceSays();
  });

  it('Given an approved correction When the corrected invoice and then the correction are voided without a run between Then the next draft bills both entries as they are now', async () => {
    await start();
    const a = await approveOpen();
    await edit();
    const b = await approveOpen();
    await voidInvoice(a);
    await voidInvoice(b);
    await sync();
    expect(await openTotal()).toBe('520.00');
    await expectBilledAsSourceSays();
  });

  it('Given an approved invoice When an entry is deleted at source and the invoice is voided (either order) Then the next draft bills only the remaining entry', async () => {
    await start();
    const a = await approveOpen();
    await remove();
    expect(await openTotal()).toBe('-130.00');
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('195.00');
    await expectBilledAsSourceSays();

    await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
    source = new Map();
    await start();
    const a2 = await approveOpen();
    await voidInvoice(a2);
    await remove();
    expect(await openTotal()).toBe('195.00');
    await expectBilledAsSourceSays();
  });

  it('Given a credit for a deleted entry was approved When the credited invoice is voided Then the credit is billed back', async () => {
    await start();
    const a = await approveOpen();
    await remove();
    await approveOpen(); // B: -130.00
    await voidInvoice(a);
    await sync();
    expect(await openTotal()).toBe('325.00'); // +130.00 back, e1 195.00 unbilled again
    await expectBilledAsSourceSays();
  });
});

type Op =
  | { op: 'edit'; id: number; hours: number; day: number }
  | { op: 'delete'; id: number }
  | { op: 'push' }
  | { op: 'approve' }
  | { op: 'void'; pick: number }
  | { op: 'run' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('edit' as const),
      id: fc.integer({ min: 0, max: 3 }),
      hours: fc.integer({ min: 1, max: 6 }),
      day: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('push' as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('approve' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('void' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('run' as const) }) },
);

describe('a correction of a correction, then the first invoice voided (embedded ledger)', () => {
  // The counterexample fast-check found: the open draft credited what the approved correction
  // billed, but not that the correction's own credit of the now-voided first invoice was given
  // for nothing; the live invoices billed e0 −1 h instead of 1 h.
  it('Given an approved invoice, an approved correction of it and an open correction of that When the first invoice is voided Then the open draft bills back the first credit and the live invoices bill the entry once', async () => {
    source.set('e0', { hours: 2, day: 0 });
    await sync();
    const first = await approveOpen();
    source.set('e0', { hours: 1, day: 0 });
    await sync();
    await approveOpen();
    source.set('e0', { hours: 1, day: 1 });
    await sync();
    await expectBilledAsSourceSays();
    await voidInvoice(first);
    await sync();
    await expectBilledAsSourceSays();
    // The correction bills 1 h − 2 h = −65.00 and stays; the open draft bills 1 h + 2 h back − 1 h credited = 130.00.
    expect(await openTotal()).toBe('130.00');
  });
});

describe('a credit approved, the entry revived and billed again, then the first invoice voided (embedded ledger)', () => {
  // The second counterexample fast-check found: after the void nothing was corrected, because the
  // voided invoice's link had been superseded; the approved credit (−2 h of it) stood and the
  // live invoices billed e0 −1 h instead of 1 h.
  it('Given an approved invoice, an approved credit of its deleted entry and an approved invoice of the revived entry When the first invoice is voided Then the next draft bills the credit back and the live invoices bill the entry once', async () => {
    source.set('e0', { hours: 2, day: 0 });
    await sync();
    const first = await approveOpen();
    source.delete('e0');
    await sync();
    await approveOpen();
    source.set('e0', { hours: 1, day: 0 });
    await sync();
    await approveOpen();
    await sync();
    await expectBilledAsSourceSays();
    await voidInvoice(first);
    await sync();
    await expectBilledAsSourceSays();
    expect(await openTotal()).toBe('130.00');
    await sync();
    expect(await openTotal()).toBe('130.00');
  });
});

describe('random histories of approvals, edits, deletions and voids (embedded ledger)', () => {
  it('Given any sequence of edits, deletions, pushes, approvals and voids of approved invoices When a run follows Then the live invoices bill every entry exactly as the source holds it, to the cent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 1, maxLength: 12 }), async (ops) => {
        await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
        source = new Map([['e0', { hours: 2, day: 0 }]]);
        await sync();
        for (const o of ops) {
          if (o.op === 'edit') {
            source.set(`e${o.id}`, { hours: o.hours, day: o.day });
            await sync();
          } else if (o.op === 'delete') {
            source.delete(`e${o.id}`);
            await sync();
          } else if (o.op === 'push') {
            const inv = await open();
            if (inv) await push(inv.key);
          } else if (o.op === 'approve') {
            // Approved as the destination holds it: what was pushed last (or now, if never pushed).
            const inv = await open();
            if (inv) {
              const [row] = await ledger.rows<{ pushed: string | null }>(
                sql`SELECT pushed_hash AS pushed FROM invoices WHERE key = ${inv.key}`,
              );
              if (row!.pushed === null) await push(inv.key);
              await applyRemoteStatus(ledger, { key: inv.key }, 'approved', 'AUTHORISED');
            }
          } else if (o.op === 'void') {
            const approved = (await invoices()).filter((i) => i.live && i.status === 'approved');
            const target = approved[o.pick % Math.max(approved.length, 1)];
            if (target) await voidInvoice(target.key);
          }
          if (o.op !== 'edit' && o.op !== 'delete') await sync();
          await expectBilledAsSourceSays();
        }
      }),
      { numRuns: 60 },
    );
  });
});
