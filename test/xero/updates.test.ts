import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { xeroDestination } from '../../connectors/xero';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { draft, fakeTenant, line, rememberedFrom, writeCtx, xeroConfig } from './helpers';

let fake: FakeXero;
beforeAll(async () => {
  fake = await startFakeXero({ tenants: [fakeTenant(51)] });
  fake.addContact('Acme Ltd');
});
afterAll(() => fake.stop());

describe('Xero draft updates', () => {
  it('Given a pushed draft, when an entry changes and a line is added, then the Xero draft is updated in place with every line, existing lines keep their LineItemIDs, and no second invoice appears', async () => {
    const config = xeroConfig(fake);
    const v1 = draft(1, { lines: [line('ann', '7.5', '95.00'), line('bob', '2.25', '120.00')] });
    const [first] = await xeroDestination.write(config, [v1], writeCtx());
    if (first!.status !== 'written') throw new Error('expected written');
    const previous = rememberedFrom([first!], [v1]);

    const v2 = draft(1, { lines: [line('ann', '8', '95.00'), line('bob', '2.25', '120.00'), line('cy', '1', '80.00')] });
    expect(v2.key).toBe(v1.key);
    expect(v2.contentHash).not.toBe(v1.contentHash);
    const [second] = await xeroDestination.write(config, [v2], writeCtx(previous));
    expect(second).toMatchObject({ status: 'written', remoteId: first!.remoteId, remoteTotal: '1110.00' });
    if (second!.status !== 'written') return;

    const post = fake.apiRequests('POST', new RegExp(`/Invoices/${first!.remoteId}$`)).at(-1)!;
    const sent = (JSON.parse(post.body) as { Invoices: { LineItems: { LineItemID?: string; Quantity: number }[] }[] }).Invoices[0]!
      .LineItems;
    expect(sent.map((l) => l.LineItemID)).toEqual([first!.remoteLineIds!.ann, first!.remoteLineIds!.bob, undefined]);
    expect(sent.map((l) => l.Quantity)).toEqual([8, 2.25, 1]);
    expect(second!.remoteLineIds!.ann).toBe(first!.remoteLineIds!.ann);
    expect(second!.remoteLineIds!.cy).toBeDefined();
    expect(fake.countByNumber(`HB-${v1.key}`)).toBe(1);
    expect(fake.invoices.get(first!.remoteId!)!.LineItems).toHaveLength(3);
  });

  it('Given a pushed draft, when a line is removed, then the update leaves it out and Xero deletes it', async () => {
    const config = xeroConfig(fake);
    const v1 = draft(2);
    const [first] = await xeroDestination.write(config, [v1], writeCtx());
    const v2 = draft(2, { lines: [line('ann', '7.5', '95.00')] });
    const [second] = await xeroDestination.write(config, [v2], writeCtx(rememberedFrom([first!], [v1])));
    expect(second).toMatchObject({ status: 'written', remoteTotal: '712.50' });
    expect(fake.invoices.get((first as { remoteId: string }).remoteId)!.LineItems).toHaveLength(1);
  });

  it('Given the Xero invoice was approved, when its entries change, then the outcome is locked with the remote status and Xero is not written', async () => {
    const config = xeroConfig(fake);
    const v1 = draft(3);
    const [first] = await xeroDestination.write(config, [v1], writeCtx());
    const remoteId = (first as { remoteId: string }).remoteId;
    fake.setStatus(remoteId, 'AUTHORISED');
    const postsBefore = fake.apiRequests('POST').length;
    const v2 = draft(3, { lines: [line('ann', '9', '95.00')] });
    const [second] = await xeroDestination.write(config, [v2], writeCtx(rememberedFrom([first!], [v1])));
    expect(second).toEqual({ key: v1.key, status: 'locked', remoteId, remoteStatus: 'AUTHORISED' });
    expect(fake.apiRequests('POST').length).toBe(postsBefore);
    expect(fake.invoices.get(remoteId)!.LineItems[0]!.Quantity).toBe(7.5);
  });

  it('Given a paid invoice and a voided one, when their entries change, then both are locked', async () => {
    const config = xeroConfig(fake);
    const v1 = [draft(4), draft(5)];
    const first = await xeroDestination.write(config, v1, writeCtx());
    fake.setStatus((first[0] as { remoteId: string }).remoteId, 'PAID');
    fake.setStatus((first[1] as { remoteId: string }).remoteId, 'VOIDED');
    const v2 = [draft(4, { lines: [line('z', '1', '1.00')] }), draft(5, { lines: [line('z', '1', '1.00')] })];
    const second = await xeroDestination.write(config, v2, writeCtx(rememberedFrom(first, v1)));
    expect(second.map((o) => (o.status === 'locked' ? o.remoteStatus : o.status))).toEqual(['PAID', 'VOIDED']);
  });

  it('Given a pushed draft, when every entry leaves it, then the Xero draft is deleted and no new invoice appears', async () => {
    const config = xeroConfig(fake);
    const v1 = draft(6);
    const [first] = await xeroDestination.write(config, [v1], writeCtx());
    const remoteId = (first as { remoteId: string }).remoteId;
    const emptied = { ...draft(6, { lines: [] }), lines: [] };
    const [second] = await xeroDestination.write(config, [emptied], writeCtx(rememberedFrom([first!], [v1])));
    expect(second).toMatchObject({ status: 'written', remoteId, remoteStatus: 'DELETED' });
    expect(fake.invoices.get(remoteId)!.Status).toBe('DELETED');
    expect(fake.countByNumber(`HB-${v1.key}`)).toBe(0);
  });

  it('Given an approved invoice, when every entry leaves it, then it is locked and not deleted', async () => {
    const config = xeroConfig(fake);
    const v1 = draft(7);
    const [first] = await xeroDestination.write(config, [v1], writeCtx());
    const remoteId = (first as { remoteId: string }).remoteId;
    fake.setStatus(remoteId, 'AUTHORISED');
    const [second] = await xeroDestination.write(
      config,
      [{ ...v1, lines: [], contentHash: 'emptied' }],
      writeCtx(rememberedFrom([first!], [v1])),
    );
    expect(second).toEqual({ key: v1.key, status: 'locked', remoteId, remoteStatus: 'AUTHORISED' });
    expect(fake.invoices.get(remoteId)!.Status).toBe('AUTHORISED');
  });

  it('Given a correction that credits more than it bills, when pushed, then it is written as a credit note and no invoice is sent', async () => {
    const config = xeroConfig(fake);
    const credit = draft(8, { lines: [line('ann', '-2', '95.00')] });
    const invoicePuts = fake.apiRequests('PUT', /\/Invoices$/).length;
    const [outcome] = await xeroDestination.write(config, [{ ...credit, total: '-190.00' }], writeCtx());
    expect(outcome).toMatchObject({ status: 'written', remoteType: 'credit-note', remoteTotal: '-190.00' });
    expect(fake.apiRequests('PUT', /\/Invoices$/).length).toBe(invoicePuts);
    expect(
      [...fake.creditNotes.values()].filter((c) => c.CreditNoteNumber === `HB-${credit.key}`).map((c) => [c.Type, c.Status, c.Total]),
    ).toEqual([['ACCRECCREDIT', 'DRAFT', 190]]);
  });
});
