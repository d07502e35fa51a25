import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { xeroDestination } from '../../connectors/xero';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { draft, fakeTenant, line, rememberedFrom, writeCtx, xeroConfig } from './helpers';
import { validate } from './openapi-validator';

/**
 * Negative corrections are Xero credit notes (PUT/POST /CreditNotes, operationIds createCreditNotes,
 * updateOrCreateCreditNotes, updateCreditNote in xero_accounting.yaml), idempotent like invoices.
 */
let fake: FakeXero;
beforeAll(async () => {
  fake = await startFakeXero({ tenants: [fakeTenant(61)] });
  fake.addContact('Acme Ltd');
});
afterAll(() => fake.stop());

/** A correction of an approved invoice: 2 h credited, 0.5 h billed again → -142.50. */
const negative = (n: number, billed = '0.5') =>
  draft(n, {
    lines: [
      line('credit', '-2', '95.00', { description: 'Correction of acme-2026-03-xero-1: Consulting ann' }),
      line('ann', billed, '95.00'),
    ],
  });
const notesNumbered = (number: string) =>
  [...fake.creditNotes.values()].filter((c) => c.CreditNoteNumber === number && c.Status !== 'DELETED');

describe('Xero credit notes for negative corrections', () => {
  it('Given a correction totalling -142.50, when written, then Xero holds one DRAFT ACCRECCREDIT credit note of 142.50 with the invoice number and reference, its lines negated, and the outcome reads it back in ledger terms', async () => {
    const config = xeroConfig(fake);
    const d = negative(1);
    const [o] = await xeroDestination.write(config, [d], writeCtx());
    expect(o).toMatchObject({
      status: 'written',
      remoteType: 'credit-note',
      remoteStatus: 'DRAFT',
      remoteTotal: '-142.50',
      remoteTax: '0.00',
      remoteGross: '-142.50',
    });
    const [cn] = notesNumbered(`HB-${d.key}`);
    expect(cn).toMatchObject({ Type: 'ACCRECCREDIT', Status: 'DRAFT', Reference: '2026-03', SubTotal: 142.5, Total: 142.5 });
    expect(cn!.LineItems.map((l) => [l.Quantity, l.UnitAmount])).toEqual([
      [2, 95],
      [-0.5, 95],
    ]);
    const put = fake.apiRequests('PUT', /\/CreditNotes$/).at(-1)!;
    expect(put.query.summarizeErrors).toBe('false');
    expect(put.headers['idempotency-key']).toMatch(/^hb-cn-create-[0-9a-f]{48}$/);
    const errors: string[] = [];
    validate(JSON.parse(put.body), { $ref: '#/components/schemas/CreditNotes' }, 'body', errors);
    expect(errors).toEqual([]);
    expect(fake.apiRequests('PUT', /\/Invoices$/)).toHaveLength(0);
  });

  it('Given a written credit note, when the same draft is written again, then no call reaches Xero; when it changes while DRAFT, then the same credit note is updated in place with its LineItemIDs', async () => {
    const config = xeroConfig(fake);
    const v1 = negative(2);
    const first = await xeroDestination.write(config, [v1], writeCtx());
    const calls = fake.stats.apiCalls;
    const again = await xeroDestination.write(config, [v1], writeCtx(rememberedFrom(first, [v1])));
    expect(again[0]!.status).toBe('written');
    expect(fake.stats.apiCalls).toBe(calls);

    const v2 = negative(2, '1');
    const [second] = await xeroDestination.write(config, [v2], writeCtx(rememberedFrom(first, [v1])));
    const id = (first[0] as { remoteId: string }).remoteId;
    expect(second).toMatchObject({ status: 'written', remoteId: id, remoteTotal: '-95.00' });
    const post = fake.apiRequests('POST', new RegExp(`/CreditNotes/${id}$`)).at(-1)!;
    const sent = (JSON.parse(post.body) as { CreditNotes: { LineItems: { LineItemID?: string }[] }[] }).CreditNotes[0]!.LineItems;
    expect(sent.map((l) => l.LineItemID)).toEqual([
      first[0]!.status === 'written' && first[0]!.remoteLineIds!.credit,
      first[0]!.status === 'written' && first[0]!.remoteLineIds!.ann,
    ]);
    expect(notesNumbered(`HB-${v1.key}`).map((c) => [c.CreditNoteID, c.Total])).toEqual([[id, 95]]);
  });

  it('Given a credit note finance approved in Xero, when the correction changes, then it is reported locked and Xero is not changed', async () => {
    const config = xeroConfig(fake);
    const v1 = negative(3);
    const first = await xeroDestination.write(config, [v1], writeCtx());
    const id = (first[0] as { remoteId: string }).remoteId;
    fake.setCreditNoteStatus(id, 'AUTHORISED');
    const [o] = await xeroDestination.write(config, [negative(3, '1')], writeCtx(rememberedFrom(first, [v1])));
    expect(o).toEqual({ key: v1.key, status: 'locked', remoteId: id, remoteStatus: 'AUTHORISED' });
    expect(fake.creditNotes.get(id)!.Total).toBe(142.5);
  });

  it('Given Xero commits the credit note but the response is lost, when the write retries, then it finds it by CreditNoteNumber and there is one credit note', async () => {
    const config = xeroConfig(fake);
    const d = negative(4);
    fake.inject('drop-after-commit', { method: 'PUT', path: /\/CreditNotes$/ });
    const [o] = await xeroDestination.write(config, [d], writeCtx());
    expect(o).toMatchObject({ status: 'written', remoteType: 'credit-note' });
    expect(notesNumbered(`HB-${d.key}`)).toHaveLength(1);
    expect(fake.apiRequests('GET', /\/CreditNotes$/).some((r) => r.query.where === `CreditNoteNumber=="HB-${d.key}"`)).toBe(true);
  });

  it('Given a credit note sent in an earlier run whose outcome the ledger never recorded, when written again after the idempotency window, then it is adopted, not created twice', async () => {
    const config = xeroConfig(fake);
    const d = negative(5);
    fake.inject('503-after-commit', { method: 'PUT', path: /\/CreditNotes$/, times: 10 });
    const [lost] = await xeroDestination.write(config, [d], writeCtx());
    expect(lost).toMatchObject({ status: 'written' });
    fake.clearFaults();
    const [again] = await xeroDestination.write(config, [d], writeCtx());
    expect(again).toMatchObject({ status: 'written', remoteType: 'credit-note' });
    expect(notesNumbered(`HB-${d.key}`)).toHaveLength(1);
  });

  it('Given a draft credit note whose correction loses all its entries, when written, then the credit note is deleted in Xero', async () => {
    const config = xeroConfig(fake);
    const v1 = negative(6);
    const first = await xeroDestination.write(config, [v1], writeCtx());
    const id = (first[0] as { remoteId: string }).remoteId;
    const [o] = await xeroDestination.write(
      config,
      [{ ...v1, lines: [], total: '0.00', contentHash: 'emptied' }],
      writeCtx(rememberedFrom(first, [v1])),
    );
    expect(o).toMatchObject({ status: 'written', remoteId: id, remoteStatus: 'DELETED' });
    expect(fake.creditNotes.get(id)!.Status).toBe('DELETED');
  });

  it('Given a correction drafted as an invoice that now credits more than it bills, when written, then the draft invoice is deleted and a credit note written; and back again', async () => {
    const config = xeroConfig(fake);
    const positive = draft(7, { lines: [line('credit', '-2', '95.00'), line('ann', '3', '95.00')] });
    const first = await xeroDestination.write(config, [positive], writeCtx());
    const invoiceId = (first[0] as { remoteId: string }).remoteId;
    expect(fake.invoices.get(invoiceId)!.Total).toBe(95);
    const neg = negative(7);
    const second = await xeroDestination.write(config, [neg], writeCtx(rememberedFrom(first, [positive])));
    expect(second[0]).toMatchObject({ status: 'written', remoteType: 'credit-note', remoteTotal: '-142.50' });
    expect(fake.invoices.get(invoiceId)!.Status).toBe('DELETED');
    const noteId = (second[0] as { remoteId: string }).remoteId;
    const third = await xeroDestination.write(config, [positive], writeCtx(rememberedFrom(second, [neg])));
    expect(third[0]).toMatchObject({ status: 'written', remoteType: 'invoice', remoteTotal: '95.00' });
    expect(fake.creditNotes.get(noteId)!.Status).toBe('DELETED');
    expect(fake.countByNumber(`HB-${positive.key}`)).toBe(1);
  });

  it('Given a taxed correction (15 % OUTPUT), when written, then the credit note reads back net, tax and gross in ledger terms', async () => {
    const config = xeroConfig(fake, { defaults: { taxType: 'OUTPUT' } });
    const [o] = await xeroDestination.write(config, [negative(8)], writeCtx());
    // Tax per line rounded: 2 × 95 × 0.15 = 28.50, −0.5 × 95 × 0.15 = −7.13 (half-up) → 21.37.
    expect(o).toMatchObject({ status: 'written', remoteTotal: '-142.50', remoteTax: '-21.37', remoteGross: '-163.87' });
  });
});
