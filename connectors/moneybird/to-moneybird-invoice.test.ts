import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { MoneybirdConfigSchema } from './config.schema';
import { detailsOf, updateBody } from './to-moneybird-invoice';
import type { MoneybirdDetail, MoneybirdDetailInput, MoneybirdSalesInvoice } from './types';

const config = MoneybirdConfigSchema.parse({
  id: 'books',
  kind: 'moneybird',
  administrationId: '1',
  token: 'fake-token',
  defaults: { taxRateId: '21', ledgerAccountId: '800' },
});

function draftOf(lines: { key: string; q: string; p: string }[]): InvoiceDraft {
  return {
    key: 'acme-1',
    clientId: 'acme',
    clientName: 'Acme',
    destinationId: 'books',
    currency: 'EUR',
    period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
    sequence: 1,
    issueDate: '2026-04-01',
    dueDate: '2026-05-01',
    lines: lines.map((l) => ({
      lineKey: l.key,
      description: `Work ${l.key}`,
      quantity: l.q,
      unitPrice: l.p,
      amount: '0',
      kind: 'time',
      entryIds: [],
    })),
    hours: '0',
    total: '0',
    contentHash: 'h',
  };
}

/** What Moneybird does with details_attributes (sales_invoices PATCH): `id` updates, `_destroy` removes, no id adds. */
function apply(current: MoneybirdDetail[], input: MoneybirdDetailInput[]): MoneybirdDetail[] {
  let next = current.map((d) => ({ ...d }));
  let n = 1000;
  for (const d of input) {
    if (d.id && d._destroy) next = next.filter((x) => x.id !== d.id);
    else if (d.id) next = next.map((x) => (x.id === d.id ? { ...x, ...d } : x));
    else
      next.push({
        id: String(n++),
        description: '',
        price: '0',
        amount: '0',
        tax_rate_id: '',
        ledger_account_id: '',
        ...d,
      } as MoneybirdDetail);
  }
  return next;
}

const lineArb = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  q: fc.constantFrom('1', '2.5', '8'),
  p: fc.constantFrom('95.00', '120.00', '-95.00'),
});
const linesArb = fc.uniqueArray(lineArb, { selector: (l) => l.key, maxLength: 5 });

describe('Moneybird in-place update (details_attributes)', () => {
  it('Given any earlier and new lines When the update is applied Then Moneybird holds exactly the new lines, and a line kept by key keeps its detail id', () => {
    fc.assert(
      fc.property(linesArb, linesArb, (before, after) => {
        const old = draftOf(before);
        const current: MoneybirdDetail[] = detailsOf(old, config).map((d, i) => ({ id: String(i + 1), ...d }));
        const remoteLineIds = Object.fromEntries(before.map((l, i) => [l.key, String(i + 1)]));
        const inv = { details: current } as MoneybirdSalesInvoice;
        const next = apply(current, updateBody(draftOf(after), config, inv, remoteLineIds).details_attributes);
        const shape = (d: { description: string; price: string; amount: string }) => `${d.description}|${d.price}|${d.amount}`;
        expect(next.map(shape).sort()).toEqual(detailsOf(draftOf(after), config).map(shape).sort());
        expect(new Set(next.map((d) => d.id)).size).toBe(next.length);
        for (const l of after) {
          if (remoteLineIds[l.key]) expect(next.find((d) => d.description === `Work ${l.key}`)?.id).toBe(remoteLineIds[l.key]);
        }
      }),
    );
  });
});
