import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { QuickBooksConfigSchema, settingsFor } from '../../connectors/quickbooks/config.schema';
import { buildTxn, docNumberFor, entityFor, remoteFigures, sameContent } from '../../connectors/quickbooks/to-qbo';
import { dec, fixed, lineAmount, sum } from '../../src/domain/money';
import { draft, line } from '../xero/helpers';

const config = QuickBooksConfigSchema.parse({
  id: 'qbo',
  kind: 'quickbooks',
  realmId: '1',
  auth: { clientId: 'test-client-id', clientSecret: 'fake-secret' },
  defaults: { itemRef: '1' },
});
const s = settingsFor(config, 'acme');

const lines = fc.array(
  fc.record({
    q: fc.integer({ min: -4000, max: 4000 }).filter((n) => n !== 0),
    p: fc.integer({ min: 1, max: 2_000_000 }),
  }),
  { minLength: 1, maxLength: 12 },
);

describe('QuickBooks mapping (property)', () => {
  it('Given any draft When mapped Then an Estimate iff the total is not negative, the line amounts sum to the total (a credit memo negated), the document matches its draft, and the DocNumber is at most 21 characters and repeatable', () => {
    fc.assert(
      fc.property(lines, fc.string({ minLength: 1, maxLength: 40 }), (ls, key) => {
        const ds = ls.map((l, i) => line(`l${i}`, (l.q / 4).toString(), (l.p / 100).toFixed(2)));
        const d = draft(1, { key, lines: ds, total: fixed(sum(ds.map((x) => x.amount)), 2) });
        const entity = entityFor(d);
        expect(entity === 'Estimate').toBe(!dec(d.total).isNegative());
        const txn = buildTxn(d, s, { entity, customerId: '1', docNumber: docNumberFor(d, s) });
        const sign = entity === 'CreditMemo' ? -1 : 1;
        const net = (txn.Line ?? []).reduce((acc, l) => acc.plus(l.Amount), dec(0));
        expect(net.times(sign).toFixed(2)).toBe(dec(d.total).toFixed(2));
        for (const l of txn.Line ?? []) {
          const det = l.SalesItemLineDetail;
          expect(dec(l.Amount).toFixed(2)).toBe(fixed(lineAmount(String(det?.Qty), String(det?.UnitPrice)), 2));
        }
        expect(sameContent(d, txn, entity)).toBe(true);
        expect(remoteFigures({ ...txn, TotalAmt: net.toNumber() }, entity).remoteTotal).toBe(dec(d.total).toFixed(2));
        const number = docNumberFor(d, s);
        expect(number.length).toBeLessThanOrEqual(21);
        expect(docNumberFor({ ...d }, s)).toBe(number);
      }),
      { numRuns: 300 },
    );
  });
});
